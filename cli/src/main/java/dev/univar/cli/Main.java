package dev.univar.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.util.List;

/** Entry point of the {@code univar} command. */
@Command(name = "univar", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Measure the human values embedded in LLMs (UniVaR) on a native Java engine.")
public final class Main implements Runnable {

    /** The subcommands, in the order the help lists them. */
    static final List<Class<?>> SUBCOMMANDS = List.of(DemoCommand.class, EmbedCommand.class, TokenizeCommand.class,
            TokenizerCommand.class, InitCommand.class, TrainCommand.class, EvalCommand.class, IdentifyCommand.class,
            MapCommand.class,
            CompareCommand.class, ReportCommand.class, BenchCommand.class, QuestionsCommand.class,
            CollectCommand.class, TranslateCommand.class, ModelsCommand.class, CommandLine.HelpCommand.class);

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the command line and returns its exit code (0 success, 1 failure, 2 bad usage). */
    public static int run(String... args) {
        CommandLine cli = new CommandLine(new Main());
        // picocli builds every registered subcommand's model by reflection, ~100 ms of a cold start; when the first
        // argument names a subcommand only that one is needed (anything else, help included, gets them all).
        Class<?> only = args.length == 0 ? null : SUBCOMMANDS.stream()
                .filter(c -> c != CommandLine.HelpCommand.class && c.getAnnotation(Command.class).name().equals(args[0]))
                .findFirst().orElse(null);
        for (Class<?> c : SUBCOMMANDS) if (only == null || c == only) cli.addSubcommand(c);
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
