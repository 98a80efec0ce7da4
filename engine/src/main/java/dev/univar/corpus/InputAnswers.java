package dev.univar.corpus;

import dev.univar.data.InputException;
import dev.univar.data.RecordSource;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Answers of an LLM to identify, read from a {@code .csv} or {@code .jsonl} file as strictly as a corpus
 * ({@link RecordSource}): each record has a question and an answer and, with a group field, the group it belongs
 * to (answers of one group are assumed to come from one LLM). Without a group field the whole file is one group.
 * An answer that is empty (or only chat-template residue, when cleaned) is not usable: it is skipped with a notice,
 * and a group left with no usable answer is an error.
 */
public record InputAnswers(Path file, List<Answer> answers, Map<String, List<Answer>> groups, int skipped) {

    /** The group of the whole input when there is no group field. */
    public static final String ALL = "all";

    /** One usable answer and the line it starts on. */
    public record Answer(String group, String question, String answer, long line) {
        /** The view text identification embeds: {@code Q: … A: …}, or the answer alone. */
        public String viewText(boolean answersOnly) {
            return answersOnly ? answer : new QaPair("", question, answer, "", "").asViewLine();
        }
    }

    /**
     * @param questionField null when questions are not needed (views of answers alone)
     * @param groupField    null: one group, {@value #ALL}
     * @param clean         strip chat-template residue from answers ({@link CorpusCleaner})
     * @param notices       hears skipped answers and what cleaning removed
     */
    public static InputAnswers read(Path file, String questionField, String answerField, String groupField, boolean clean,
                                    Consumer<String> notices) {
        Map<String, List<Answer>> groups = new LinkedHashMap<>();
        Map<String, Long> firstLine = new LinkedHashMap<>();
        List<Answer> all = new ArrayList<>();
        Map<String, Integer> removed = new LinkedHashMap<>();
        int records = 0, skipped = 0, cleaned = 0;
        List<Long> skippedLines = new ArrayList<>();
        try (RecordSource src = RecordSource.open(file)) {
            if (src.format() == RecordSource.Format.TXT)
                throw new InputException(file, 0, "answers to identify are a .csv or .jsonl file with question and answer fields");
            LinkedHashSet<String> required = new LinkedHashSet<>();
            if (questionField != null) required.add(questionField);
            required.add(answerField);
            if (groupField != null) required.add(groupField);
            if (src.format() == RecordSource.Format.CSV)
                src.requireColumns(required, groupField != null ? " (--group-by names the group column)" : "");
            while (src.hasNext()) {
                RecordSource.Row row = src.next();
                records++;
                String group = groupField == null ? ALL : row.scalar(groupField);
                if (group.isBlank())
                    throw new InputException(row.file(), row.line(), "empty group (" + row.describe(groupField) + ")");
                String question = questionField == null ? "" : row.string(questionField);
                String answer = row.string(answerField);
                if (clean) {
                    String c = CorpusCleaner.cleanText(answer, removed);
                    if (!c.equals(answer)) cleaned++;
                    answer = c;
                }
                firstLine.putIfAbsent(group, row.line());
                List<Answer> members = groups.computeIfAbsent(group, g -> new ArrayList<>());
                if (answer.isBlank()) {
                    skipped++;
                    if (skippedLines.size() < 5) skippedLines.add(row.line());
                    continue;
                }
                Answer a = new Answer(group, question, answer, row.line());
                members.add(a);
                all.add(a);
            }
        }
        if (records == 0) throw new InputException(file, 0, "no answers to identify");
        if (cleaned > 0)
            notices.accept(String.format(Locale.ROOT, "removed chat-template residue from %d answers %s (--no-clean keeps it)", cleaned, removed));
        if (skipped > 0)
            notices.accept(String.format(Locale.ROOT, "skipped %d empty answer(s), at line(s) %s%s", skipped,
                    skippedLines.stream().map(String::valueOf).reduce((a, b) -> a + ", " + b).orElse(""), skipped > skippedLines.size() ? ", …" : ""));
        for (var e : groups.entrySet())
            if (e.getValue().isEmpty())
                throw new InputException(file, firstLine.get(e.getKey()), groupField == null ? "no usable answers: every answer is empty"
                        : "group '" + e.getKey() + "' has no usable answers: every answer in it is empty");
        Map<String, List<Answer>> frozen = new LinkedHashMap<>();
        groups.forEach((g, l) -> frozen.put(g, List.copyOf(l)));
        return new InputAnswers(file, List.copyOf(all), java.util.Collections.unmodifiableMap(frozen), skipped);
    }
}
