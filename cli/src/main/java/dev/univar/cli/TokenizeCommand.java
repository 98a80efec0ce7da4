package dev.univar.cli;

import dev.univar.bindings.NativeLibraries;
import dev.univar.data.TextSource;
import dev.univar.text.SentencePieceTokenizer;
import dev.univar.text.Tokenizer;
import dev.univar.text.WordPieceTokenizer;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.BufferedWriter;
import java.io.OutputStreamWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.Callable;

@Command(name = "tokenize", mixinStandardHelpOptions = true,
        description = {"Print one JSON array of token ids per input text.",
                "With --model: the model's ids, special tokens included ([CLS]/[SEP], or <s>/</s> for an XLM-R folder).",
                "With --spm-model: exactly the ids `spm_encode --output_format=id` prints, no special tokens.",
                "Input as for embed: .txt, .jsonl or .csv."})
final class TokenizeCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--input", required = true, paramLabel = "FILE", description = "Texts to tokenise.")
    Path input;

    @Option(names = "--model", paramLabel = "minilm|DIR|ORG/NAME",
            description = "Model whose tokenizer to use: a BERT folder (tokenizer.json or vocab.txt), an XLM-R "
                    + "folder (sentencepiece.bpe.model), or a Hub model ORG/NAME[@REVISION]. Default: minilm.")
    String model;

    @Option(names = "--spm-model", paramLabel = "FILE.model",
            description = "A SentencePiece model (e.g. from `univar tokenizer train` or spm_train) instead of --model.")
    Path spmModel;

    @Option(names = "--text-field", defaultValue = "text", paramLabel = "NAME",
            description = "JSONL field or CSV column holding the text. Default: ${DEFAULT-VALUE}.")
    String textField;

    @Option(names = "--max-length", paramLabel = "TOKENS",
            description = "Truncate to this many tokens, special tokens included. Default: no truncation.")
    Integer maxLength;

    @Override
    public Integer call() throws Exception {
        if (model != null && spmModel != null)
            throw new CommandLine.ParameterException(spec.commandLine(), "--model and --spm-model exclude each other");
        int max = maxLength == null ? Integer.MAX_VALUE : maxLength;
        Check.atLeast("--max-length", max, spmModel != null ? 1 : Check.MIN_MAX_LENGTH);
        try (Tokenizer tokenizer = openTokenizer()) {
            var out = new BufferedWriter(new OutputStreamWriter(System.out, StandardCharsets.UTF_8), 1 << 16);
            try (TextSource source = TextSource.open(input, textField)) {
                StringBuilder line = new StringBuilder();
                while (source.hasNext()) {
                    int[] ids = tokenizer.encode(source.next().text(), max).ids();
                    line.setLength(0);
                    line.append('[');
                    for (int i = 0; i < ids.length; i++) {
                        if (i > 0) line.append(',');
                        line.append(ids[i]);
                    }
                    out.append(line).append(']').append('\n');
                }
            }
            out.flush();
        } catch (NativeLibraries.UnavailableException e) {
            spec.commandLine().getErr().println("univar tokenize: error: " + e.getMessage());
            return 1;
        }
        return 0;
    }

    private Tokenizer openTokenizer() throws java.io.IOException {
        if (spmModel != null) return SentencePieceTokenizer.fromModelFile(spmModel);
        Path dir = Models.resolve(model == null ? "minilm" : model);
        return Tokenizer.forModelDir(dir);
    }
}
