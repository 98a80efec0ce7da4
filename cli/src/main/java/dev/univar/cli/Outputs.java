package dev.univar.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Locale;

/** Output files appear whole or not at all: written beside the target, then renamed. Plus text escaping. */
final class Outputs {
    private Outputs() {
    }

    static void write(Path target, byte[] bytes) throws IOException {
        Path abs = target.toAbsolutePath();
        Files.createDirectories(abs.getParent());
        // Not Files.createTempFile: its owner-only permissions would carry over to the output.
        Path tmp = abs.resolveSibling("." + abs.getFileName() + "-" + Long.toHexString(new java.util.Random().nextLong()) + ".partial");
        try {
            Files.write(tmp, bytes, java.nio.file.StandardOpenOption.CREATE_NEW, java.nio.file.StandardOpenOption.WRITE);
            try {
                Files.move(tmp, abs, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } catch (java.nio.file.AtomicMoveNotSupportedException e) {
                Files.move(tmp, abs, StandardCopyOption.REPLACE_EXISTING);
            }
        } finally {
            Files.deleteIfExists(tmp);
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
        throw new IllegalArgumentException(option + " " + p + ": the file name must end in ." + String.join(" or .", allowed));
    }
}
