package dev.univar.cuda;

import dev.univar.cpu.CpuBackend;
import dev.univar.nn.EmbeddingModel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The model {@link CudaEncoderTest} falls back to where the MiniLM jar is absent (the GPU bundle): checked here on
 * the CPU, so a GPU run does not find out first that it cannot be made or loaded.
 */
class CudaEncoderFallbackTest {

    @Test
    void randomMiniLmShapedModelLoadsAndEmbeds(@TempDir Path tmp) throws Exception {
        Path dir = CudaEncoderTest.randomMiniLm(tmp);
        try (EmbeddingModel model = EmbeddingModel.load(dir, new CpuBackend(1))) {
            assertEquals(384, model.config().hiddenSize());
            assertEquals(6, model.config().numLayers());
            assertEquals(30522, model.config().vocabSize());
            float[][] e = model.embed(List.of("The quick brown fox jumps over the lazy dog.", "人工智能应该受到监管吗？"), 64);
            for (float[] v : e) {
                double norm = 0;
                for (float x : v) {
                    assertTrue(Float.isFinite(x));
                    norm += x * x;
                }
                assertEquals(1.0, Math.sqrt(norm), 1e-4);
            }
            int unknown = model.tokenizer().unkId();
            int[] ids = model.tokenizer().encode("Should the death penalty be abolished?", 64).ids();
            for (int id : ids) assertTrue(id != unknown, "the made-up vocabulary covers the test texts");
        }
    }
}
