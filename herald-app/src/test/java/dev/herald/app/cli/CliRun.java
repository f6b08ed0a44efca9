package dev.herald.app.cli;

import java.io.ByteArrayInputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import picocli.CommandLine;

/** Runs the command line in-process with captured output. */
public record CliRun(int code, String out, String err, Cli cli) {
  public static CliRun run(Map<String, String> env, String stdin, String... args) {
    StringWriter o = new StringWriter();
    StringWriter e = new StringWriter();
    CommandLine cmd =
        Cli.commandLine(
            env,
            new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8)),
            new PrintWriter(o, true),
            new PrintWriter(e, true));
    Cli cli = cmd.getCommand();
    cli.noShutdownHook();
    int code = cmd.execute(args);
    return new CliRun(code, o.toString(), e.toString(), cli);
  }

  public static CliRun run(String... args) {
    return run(Map.of(), "", args);
  }

  @Override
  public String toString() {
    return "exit " + code + "\n--- out:\n" + out + "\n--- err:\n" + err;
  }
}
