package dev.univar.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** Entry point of the {@code univar} command. */
@Command(name = "univar", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Measure the human values embedded in LLMs (UniVaR) on a native Java engine.",
        subcommands = {DemoCommand.class, EmbedCommand.class, TokenizeCommand.class, TokenizerCommand.class,
                InitCommand.class, TrainCommand.class, EvalCommand.class, MapCommand.class, CompareCommand.class,
                ReportCommand.class, BenchCommand.class, QuestionsCommand.class, CollectCommand.class,
                CommandLine.HelpCommand.class})
public final class Main implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the command line and returns its exit code (0 success, 1 failure, 2 bad usage). */
    public static int run(String... args) {
        CommandLine cli = new CommandLine(new Main());
        cli.setExecutionExceptionHandler(new Errors());
        return cli.execute(args);
    }

    @Override
    public void run() {
        spec.commandLine().usage(System.err);
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Main.class.getPackage().getImplementationVersion();
            return new String[]{"univar " + (v == null ? "dev" : v) + " (Java " + Runtime.version() + ")"};
        }
    }
}
