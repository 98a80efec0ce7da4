package dev.univar.hub;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A model on the Hub: {@code ORG/NAME} and a revision (a branch, a tag or a commit; default {@value #MAIN}), written
 * {@code ORG/NAME[@REVISION]}. Names follow the Hub's rules (letters, digits, {@code - _ .}, at most 96 characters,
 * no {@code --} or {@code ..}, not starting or ending with {@code -} or {@code .}); a revision may hold {@code /}
 * ({@code refs/pr/1}) but no {@code ..} path step, so that it can name a file under {@code refs/}.
 */
public record RepoSpec(String org, String name, String revision) {
    public static final String MAIN = "main";
    private static final Pattern PART = Pattern.compile("[A-Za-z0-9_.-]{1,96}");
    private static final Pattern COMMIT = Pattern.compile("[0-9a-f]{40}");
    private static final Pattern SPEC = Pattern.compile("([^/@]+)/([^/@]+)(?:@(.+))?");

    public RepoSpec {
        if (!validPart(org) || !validPart(name))
            throw new IllegalArgumentException("'" + org + "/" + name + "' is not a Hub model name (ORG/NAME: letters, digits, - _ .)");
        if (!validRevision(revision))
            throw new IllegalArgumentException("'" + revision + "' is not a revision (a branch, a tag or a commit)");
    }

    /** Whether {@code spec} has the shape {@code ORG/NAME[@REVISION]} with valid parts. */
    public static boolean isHubName(String spec) {
        Matcher m = SPEC.matcher(spec);
        return m.matches() && validPart(m.group(1)) && validPart(m.group(2)) && (m.group(3) == null || validRevision(m.group(3)));
    }

    /** Parses {@code ORG/NAME[@REVISION]}; IllegalArgumentException with the rule when it is not one. */
    public static RepoSpec parse(String spec) {
        Matcher m = SPEC.matcher(spec);
        if (!m.matches())
            throw new IllegalArgumentException("'" + spec + "' is not a Hub model name: expected ORG/NAME or ORG/NAME@REVISION");
        return new RepoSpec(m.group(1), m.group(2), m.group(3) == null ? MAIN : m.group(3));
    }

    private static boolean validPart(String s) {
        return s != null && PART.matcher(s).matches() && !s.contains("--") && !s.contains("..")
                && !s.startsWith("-") && !s.startsWith(".") && !s.endsWith("-") && !s.endsWith(".");
    }

    private static boolean validRevision(String r) {
        if (r == null || r.isEmpty() || r.length() > 255 || r.startsWith("/") || r.endsWith("/") || r.contains("\\")) return false;
        for (String step : r.split("/", -1)) if (step.isEmpty() || step.equals(".") || step.equals("..")) return false;
        return r.chars().noneMatch(c -> c < 0x20 || c == 0x7f);
    }

    /** {@code ORG/NAME}, as the Hub spells it. */
    public String id() {
        return org + "/" + name;
    }

    /** The cache folder's name: {@code models--ORG--NAME}. */
    public String folderName() {
        return "models--" + org + "--" + name;
    }

    /** Whether the revision is a full commit hash (immutable: a complete cached snapshot needs no network). */
    public boolean isCommit() {
        return COMMIT.matcher(revision).matches();
    }

    static boolean isCommitHash(String s) {
        return s != null && COMMIT.matcher(s).matches();
    }

    public RepoSpec withRevision(String rev) {
        return new RepoSpec(org, name, rev);
    }

    /** {@code ORG/NAME} for the default revision, else {@code ORG/NAME@REVISION}. */
    @Override
    public String toString() {
        return revision.equals(MAIN) ? id() : id() + "@" + revision;
    }

    static String shortCommit(String commit) {
        return commit == null ? "?" : commit.substring(0, Math.min(12, commit.length())).toLowerCase(Locale.ROOT);
    }
}
