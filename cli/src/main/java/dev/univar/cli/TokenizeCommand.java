package dev.univar.cli;

import dev.univar.data.TextSource;
import dev.univar.io.ModelStore;
import dev.univar.text.Tokenizer;
import dev.univar.text.WordPieceTokenizer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.BufferedWriter;
import java.io.OutputStreamWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.Callable;

@Command(name = "tokenize", mixinStandardHelpOptions = true,
        description = {"Print one JSON array of token ids per input text, special tokens included.",
                "Input as for embed: .txt, .jsonl or .csv."})
final class TokenizeCommand implements Callable<Integer> {
    @Option(names = "--input", required = true, paramLabel = "FILE", description = "Texts to tokenise.")
    Path input;

    @Option(names = "--model", defaultValue = "minilm", paramLabel = "minilm|DIR",
            description = "Model whose tokenizer to use. Default: ${DEFAULT-VALUE}.")
    String model;

    @Option(names = "--text-field", defaultValue = "text", paramLabel = "NAME",
            description = "JSONL field or CSV column holding the text. Default: ${DEFAULT-VALUE}.")
    String textField;

    @Option(names = "--max-length", paramLabel = "TOKENS",
            description = "Truncate to this many tokens, special tokens included. Default: no truncation.")
    Integer maxLength;

    @Override
    public Integer call() throws Exception {
        int max = maxLength == null ? Integer.MAX_VALUE : maxLength;
        if (max < 2) throw new IllegalArgumentException("--max-length must be at least 2");
        Tokenizer tokenizer = WordPieceTokenizer.fromModelDir(ModelStore.resolve(model, m -> System.err.println("univar: " + m)));
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
        return 0;
    }
}
