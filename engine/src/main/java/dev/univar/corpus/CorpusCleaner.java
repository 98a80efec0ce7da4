package dev.univar.corpus;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Strips chat-template residue from answers: a leading role line such as {@code <|assistant|>}, and the tokens
 * {@code [INST]}, {@code [/INST]}, {@code <s>}, {@code </s>} and {@code <|...|>} specials wherever they occur.
 * Such tokens tell LLMs apart by their serving stack's formatting, not by their values, so an identifier that
 * learned them would overstate what the embeddings say about values.
 */
public final class CorpusCleaner {
    /** What cleaning did: the cleaned corpus, how many answers changed, and how often each kind of residue was removed. */
    public record Result(Corpus corpus, int answersChanged, Map<String, Integer> removed) {
        public String summary() {
            if (answersChanged == 0) return "no chat-template residue found";
            StringBuilder sb = new StringBuilder("removed chat-template residue from " + answersChanged + " answers (");
            boolean first = true;
            for (var e : removed.entrySet()) {
                sb.append(first ? "" : ", ").append(e.getValue()).append("× ").append(e.getKey());
                first = false;
            }
            return sb.append(')').toString();
        }
    }

    // A first line that is only a role marker: <|assistant|>, <|im_start|>assistant, "assistant:" after a special.
    private static final Pattern LEADING_ROLE = Pattern.compile("\\A\\s*(<\\|[a-z_]+\\|>)[ \\t]*(assistant)?[ \\t]*(\\r?\\n|\\z)");
    private static final Pattern TOKENS = Pattern.compile("\\[/?INST]|</?s>|<\\|[a-z_]+\\|>");

    private CorpusCleaner() {
    }

    public static Result clean(Corpus corpus) {
        Map<String, Integer> removed = new LinkedHashMap<>();
        List<QaPair> out = new ArrayList<>(corpus.size());
        int changed = 0;
        for (QaPair p : corpus.pairs()) {
            String a = cleanText(p.answer(), removed);
            if (!a.equals(p.answer())) changed++;
            out.add(new QaPair(p.questionId(), p.question(), a, p.model(), p.lang()));
        }
        return new Result(new Corpus(out), changed, removed);
    }

    /** The text without residue; {@code removed} counts each removed token (a leading role line counts as its token). */
    public static String cleanText(String text, Map<String, Integer> removed) {
        String t = text;
        Matcher lead = LEADING_ROLE.matcher(t);
        if (lead.find()) {
            removed.merge(lead.group(1) + " line", 1, Integer::sum);
            t = t.substring(lead.end());
        }
        Matcher m = TOKENS.matcher(t);
        if (m.find()) {
            StringBuilder sb = new StringBuilder();
            m.reset();
            while (m.find()) {
                removed.merge(m.group(), 1, Integer::sum);
                m.appendReplacement(sb, "");
            }
            m.appendTail(sb);
            t = sb.toString();
        }
        return t == text ? text : t.strip();
    }
}
