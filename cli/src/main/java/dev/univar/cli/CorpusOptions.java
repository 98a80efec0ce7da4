package dev.univar.cli;

import dev.univar.corpus.ColumnMap;
import dev.univar.corpus.Corpus;
import dev.univar.corpus.CorpusCleaner;
import dev.univar.data.InputException;
import picocli.CommandLine.Option;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Locale;

/** Options of the commands that analyse a corpus of LLM answers: where it is, its columns, cleaning, text length. */
final class CorpusOptions {
    @Option(names = "--corpus", required = true, paramLabel = "PATH",
            description = "A .csv or .jsonl file of QA pairs, or a folder of them.")
    Path corpus;

    @Option(names = "--columns", paramLabel = "PART=COLUMN,...",
            description = "Which columns hold question, answer, model, lang, question_id "
                    + "(e.g. question=full_prompt,answer=completion,model=model,question_id=pct_id).")
    String columns;

    @Option(names = "--no-clean", description = "Keep chat-template residue (<|assistant|>, [INST], <s>) in answers.")
    boolean noClean;

    @Option(names = "--view-text", defaultValue = "qa", paramLabel = "qa|answer",
            description = "What a view holds per QA pair: 'Q: … A: …' lines as in the paper (qa), or the answer alone "
                    + "(answer; for long prompts that would use up --max-length). Default: ${DEFAULT-VALUE}.")
    String viewText;

    @Option(names = "--max-length", defaultValue = "256", paramLabel = "TOKENS",
            description = "Tokens embedded per view; longer views are truncated. Default: ${DEFAULT-VALUE}.")
    int maxLength;

    @Option(names = "--batch-size", defaultValue = "32", paramLabel = "N", description = "Default: ${DEFAULT-VALUE}.")
    int batchSize;

    boolean answersOnly() {
        return Check.oneOf("--view-text", viewText, "qa", "answer").equals("answer");
    }

    /** Checks these options' values before any work (usage errors). */
    void check() {
        answersOnly();
        Check.maxLength("--max-length", maxLength);
        Check.atLeast("--batch-size", batchSize, 1);
    }

    /** Reads and (unless --no-clean) cleans the corpus; it must hold at least two LLMs. */
    Corpus load(PrintStream err, String command) {
        check(); // a bad value fails before the corpus is read
        ColumnMap map = ColumnMap.parse(columns);
        Corpus c = Corpus.read(corpus, map, msg -> err.println("univar " + command + ": notice: " + msg));
        if (c.size() == 0) throw new InputException(corpus, 0, "the corpus is empty: no QA pairs");
        if (c.models().size() < 2)
            throw new InputException(corpus, 0, "the corpus holds a single LLM (" + c.models().iterator().next()
                    + "); telling LLMs apart needs at least 2");
        if (!noClean) {
            CorpusCleaner.Result r = CorpusCleaner.clean(c);
            err.println("univar " + command + ": " + r.summary() + (r.answersChanged() > 0 ? " (--no-clean keeps it)" : ""));
            c = r.corpus();
        }
        err.printf(Locale.ROOT, "univar %s: %d QA pairs, %d LLMs, %d keys, %d questions from %s%n", command, c.size(),
                c.models().size(), c.keys().size(), c.questionIds().size(), corpus);
        return c;
    }
}
