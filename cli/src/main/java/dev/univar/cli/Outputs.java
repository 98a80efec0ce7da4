package dev.univar.cli;

import dev.univar.data.AtomicFile;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/** Output files appear whole or not at all ({@link AtomicFile}); output names and text escaping. */
final class Outputs {
    private Outputs() {
    }

    static void write(Path target, byte[] bytes) throws IOException {
        AtomicFile.write(target, bytes);
    }

    /** A file a command will write, and the option that names it (for messages). */
    record Target(String option, Path path) {
    }

    /**
     * Checks, before any work, the files a command will write, beside the named output included: none is a folder,
     * none is one of the command's {@code inputs} (the same file through any link, or a file inside an input
     * folder), no two are the same file, and each can be written. The first three are usage errors; the last
     * fails with the operating system's reason. Inputs may be null or missing (their own check reports that).
     */
    static void check(List<Path> inputs, Target... outputs) throws IOException {
        for (int i = 0; i < outputs.length; i++) {
            Target t = outputs[i];
            if (Files.isDirectory(t.path()))
                throw new UsageException(t.option() + " " + t.path() + " is a folder; it must name a file");
            for (Path in : inputs) {
                if (in == null || !Files.exists(t.path()) || !Files.exists(in)) continue;
                if (Files.isDirectory(in) ? t.path().toRealPath().startsWith(in.toRealPath()) : Files.isSameFile(t.path(), in))
                    throw new UsageException(t.option() + " " + t.path() + (Files.isDirectory(in) ? " is inside the input folder " : " is the input ")
                            + in + ": writing it would destroy the input; choose another output");
            }
            for (int j = 0; j < i; j++)
                if (t.path().toAbsolutePath().normalize().equals(outputs[j].path().toAbsolutePath().normalize()))
                    throw new UsageException(t.option() + " " + t.path() + " is also the " + outputs[j].option() + " output");
        }
        for (Target t : outputs) AtomicFile.checkWritable(t.path());
    }

    /** The inputs of an analysis: the corpus and the folders of the models it embeds with. */
    static List<Path> analysisInputs(Path corpus, String model, List<String> baselines) {
        List<Path> inputs = new java.util.ArrayList<>();
        inputs.add(corpus);
        inputs.add(modelInput(model));
        for (String m : baselines) inputs.add(modelInput(m));
        return inputs;
    }

    /** The folder a model name stands for, when it is a folder (an input whose files no output may replace). */
    static Path modelInput(String spec) {
        if (spec == null) return null;
        try {
            Path p = Path.of(spec);
            return Files.isDirectory(p) ? p : null;
        } catch (java.nio.file.InvalidPathException e) {
            return null; // not a folder name: resolving the model reports it
        }
    }

    static void write(Path target, String text) throws IOException {
        write(target, text.getBytes(StandardCharsets.UTF_8));
    }

    /** The lower-case extension without the dot, or "". */
    static String extension(Path p) {
        String n = p.getFileName().toString();
        int dot = n.lastIndexOf('.');
        return dot < 0 ? "" : n.substring(dot + 1).toLowerCase(Locale.ROOT);
    }

    /** {@code p} with its extension replaced by {@code ext}. */
    static Path sibling(Path p, String ext) {
        String n = p.getFileName().toString();
        int dot = n.lastIndexOf('.');
        return p.resolveSibling((dot < 0 ? n : n.substring(0, dot)) + "." + ext);
    }

    /** Text for XML/HTML content and attribute values: corpus text is data, never markup. */
    static String xml(String s) {
        StringBuilder sb = new StringBuilder(s.length() + 16);
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '<' -> sb.append("&lt;");
                case '>' -> sb.append("&gt;");
                case '&' -> sb.append("&amp;");
                case '"' -> sb.append("&quot;");
                case '\'' -> sb.append("&#39;");
                default -> {
                    // Characters XML 1.0 forbids (control characters) would make the file unparseable.
                    if (c < 0x20 && c != '\n' && c != '\t' && c != '\r') sb.append('\uFFFD');
                    else sb.append(c);
                }
            }
        }
        return sb.toString();
    }

    /** Checks the output's extension is one of {@code allowed}; returns it. */
    static String requireExtension(Path p, String option, String... allowed) {
        String ext = extension(p);
        for (String a : allowed) if (a.equals(ext)) return ext;
        throw new UsageException(option + " must end in ." + String.join(" or .", allowed) + ": " + p);
    }
}
