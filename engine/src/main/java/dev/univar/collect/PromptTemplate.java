package dev.univar.collect;

import dev.univar.data.InputException;

import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A prompt with {@code {name}} placeholders, filled in one pass (a value that itself contains {@code {text}} is not
 * filled again). Braces around names the command does not know are left as they are.
 */
public record PromptTemplate(String text) {
    private static final Pattern PLACEHOLDER = Pattern.compile("\\{([a-z_]+)\\}");

    /** Reads a template file (UTF-8); it must use every one of {@code required}. */
    public static PromptTemplate read(Path file, String... required) {
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(Files.readAllBytes(file))).toString();
        } catch (NoSuchFileException e) {
            throw new InputException(file, 0, "no such file");
        } catch (CharacterCodingException e) {
            throw new InputException(file, 0, "invalid UTF-8");
        } catch (IOException e) {
            throw new InputException(file, 0, "cannot read: " + dev.univar.data.IoFailure.reason(e), e);
        }
        PromptTemplate t = new PromptTemplate(text.strip());
        for (String r : required)
            if (!t.uses(r)) throw new InputException(file, 0, "the prompt template has no {" + r + "}, where the "
                    + r.replace('_', ' ') + " goes");
        return t;
    }

    public boolean uses(String name) {
        return text.contains("{" + name + "}");
    }

    public String fill(Map<String, String> values) {
        Matcher m = PLACEHOLDER.matcher(text);
        StringBuilder sb = new StringBuilder();
        while (m.find()) {
            String v = values.get(m.group(1));
            m.appendReplacement(sb, Matcher.quoteReplacement(v != null ? v : m.group()));
        }
        m.appendTail(sb);
        return sb.toString();
    }
}
