package dev.gatehouse.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import javax.tools.Diagnostic;
import javax.tools.DiagnosticCollector;
import javax.tools.JavaCompiler;
import javax.tools.JavaFileObject;
import javax.tools.SimpleJavaFileObject;
import javax.tools.StandardJavaFileManager;
import javax.tools.ToolProvider;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every snippet of the README is what it claims to be: each {@code java} block compiles against Gatehouse
 * and Jetty, the quick start is {@link ChatGateway} word for word, and each {@code yaml} block is a config file
 * the runner accepts. A snippet that stops compiling fails the build, with the README's line in the message.
 *
 * <p>A {@code java} block that declares a class is compiled as it is, with the imports it shows. Any other
 * block is the body of a method of a {@link dev.gatehouse.examples.readme.ReadmeContext} subclass, which
 * declares the variables the README says snippets use ({@code server}, {@code backend}, {@code jwt}...), with
 * the imports the README says it leaves out ({@link #IMPLIED_IMPORTS}) and those the block shows itself.
 */
class ReadmeSnippetsTest {

    /** What the README's "Snippets" note says a snippet without imports may use. */
    static final List<String> IMPLIED_IMPORTS = List.of("java.net.URI", "java.nio.file.Path", "java.time.Duration",
            "java.util.*", "java.util.concurrent.*", "dev.gatehouse.*", "dev.gatehouse.auth.*", "dev.gatehouse.balance.*",
            "dev.gatehouse.policy.*", "dev.gatehouse.session.*", "dev.gatehouse.routing.*", "dev.gatehouse.spi.*", "dev.gatehouse.jetty.*");

    private static final Pattern FENCE = Pattern.compile("^(\\s*)```(\\w*)\\s*$");
    private static final Pattern CLASS = Pattern.compile("(?m)^public (?:final )?class (\\w+)");
    private static final String QUICK_START = "ChatGateway";

    @TempDir
    Path classes;

    /** A fenced block of the README: its language, its first line's number (from 1) and its text. */
    record Block(String language, int line, String text) {
    }

    static Path readme() {
        Path here = Path.of("").toAbsolutePath();
        for (Path dir = here; dir != null; dir = dir.getParent()) {
            if (Files.isRegularFile(dir.resolve("README.md")) && Files.isDirectory(dir.resolve("gateway-core"))) {
                return dir.resolve("README.md");
            }
        }
        throw new IllegalStateException("no README.md above " + here);
    }

    static List<Block> blocks(String language) throws IOException {
        List<String> lines = Files.readAllLines(readme(), StandardCharsets.UTF_8);
        List<Block> blocks = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            Matcher open = FENCE.matcher(lines.get(i));
            if (!open.matches()) {
                continue;
            }
            String indent = open.group(1);
            StringBuilder text = new StringBuilder();
            int j = i + 1;
            while (j < lines.size() && !lines.get(j).strip().equals("```")) {
                String line = lines.get(j);
                text.append(line.startsWith(indent) ? line.substring(indent.length()) : line.strip()).append('\n');
                j++;
            }
            if (open.group(2).equals(language)) {
                blocks.add(new Block(language, i + 2, text.toString()));
            }
            i = j;
        }
        return blocks;
    }

    /** A compilation unit held in memory, named so that the compiler's messages point at the README. */
    private static final class Source extends SimpleJavaFileObject {
        private final String code;
        private final Block block;
        private final int firstLine; // the line of the unit that is the block's first line

        Source(String className, String code, Block block, int firstLine) {
            super(URI.create("string:///" + className.replace('.', '/') + Kind.SOURCE.extension), Kind.SOURCE);
            this.code = code;
            this.block = block;
            this.firstLine = firstLine;
        }

        @Override
        public CharSequence getCharContent(boolean ignoreEncodingErrors) {
            return code;
        }

        String where(long unitLine) {
            return "README.md line " + (block.line() + unitLine - firstLine);
        }
    }

    private static Source unit(Block block) {
        Matcher declared = CLASS.matcher(block.text());
        if (declared.find()) {
            return new Source(declared.group(1), block.text(), block, 1);
        }
        StringBuilder imports = new StringBuilder();
        StringBuilder body = new StringBuilder();
        int bodyStart = -1;
        List<String> lines = block.text().lines().toList();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            if (bodyStart < 0 && (line.startsWith("import ") || line.isBlank())) {
                imports.append(line).append('\n');
            } else {
                if (bodyStart < 0) {
                    bodyStart = i;
                }
                body.append(line).append('\n');
            }
        }
        String name = "Snippet" + block.line();
        StringBuilder code = new StringBuilder("package dev.gatehouse.examples.readme;\n");
        IMPLIED_IMPORTS.forEach(i -> code.append("import ").append(i).append(";\n"));
        code.append(imports);
        code.append("@SuppressWarnings(\"unused\")\nclass ").append(name).append(" extends ReadmeContext {\n")
                .append("void snippet() throws Exception {\n");
        int first = (int) code.chars().filter(c -> c == '\n').count() + 1 - Math.max(bodyStart, 0);
        code.append(body).append("}\n}\n");
        return new Source("dev.gatehouse.examples.readme." + name, code.toString(), block, first);
    }

    @Test
    void everyJavaSnippetCompiles() throws IOException {
        List<Block> blocks = blocks("java");
        assertTrue(blocks.size() > 30, "found only " + blocks.size() + " java blocks");
        List<Source> units = blocks.stream().map(ReadmeSnippetsTest::unit).toList();
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        DiagnosticCollector<JavaFileObject> diagnostics = new DiagnosticCollector<>();
        try (StandardJavaFileManager files = javac.getStandardFileManager(diagnostics, Locale.ROOT, StandardCharsets.UTF_8)) {
            List<String> options = List.of("-classpath", System.getProperty("java.class.path"), "-d", classes.toString(),
                    "-proc:none", "--release", "17", "-Xlint:none");
            javac.getTask(null, files, diagnostics, options, null, units).call();
        }
        List<String> errors = new ArrayList<>();
        for (Diagnostic<? extends JavaFileObject> d : diagnostics.getDiagnostics()) {
            if (d.getKind() == Diagnostic.Kind.ERROR) {
                String where = d.getSource() instanceof Source s ? s.where(d.getLineNumber()) : String.valueOf(d.getSource());
                errors.add(where + ": " + d.getMessage(Locale.ROOT));
            }
        }
        if (!errors.isEmpty()) {
            fail(errors.size() + " README snippet error(s):\n" + String.join("\n", errors));
        }
    }

    @Test
    void quickStartIsChatGatewayWordForWord() throws IOException {
        Block quickStart = blocks("java").stream().filter(b -> b.text().contains("public class " + QUICK_START))
                .findFirst().orElseThrow(() -> new AssertionError("no quick start class in the README"));
        Path source = readme().getParent().resolve("gateway-examples/src/main/java/dev/gatehouse/examples/"
                + QUICK_START + ".java");
        String file = Files.readString(source, StandardCharsets.UTF_8)
                .replaceFirst("^package dev\\.gatehouse\\.examples;\n\n", "");
        assertEquals(file, quickStart.text(), "the README's quick start and " + source + " differ");
    }

    @Test
    void everyYamlSnippetIsAConfigFileTheRunnerAccepts(@TempDir Path dir) throws IOException {
        List<Block> blocks = blocks("yaml");
        assertTrue(blocks.size() >= 3, "found only " + blocks.size() + " yaml blocks");
        for (Block block : blocks) {
            Path file = dir.resolve("line-" + block.line() + ".yaml");
            Files.writeString(file, block.text(), StandardCharsets.UTF_8);
            try {
                // Every variable a ${NAME} secret names is set, to a value long enough for an HS256 secret.
                RunnerOptions.parse(List.of("--config", file.toString()), name -> "the value of " + name + " in the environment");
            } catch (UsageException e) {
                throw new AssertionError("README.md line " + block.line() + ": the runner refuses this YAML: "
                        + e.getMessage(), e);
            }
        }
    }

    @Test
    void flagTableListsEveryFlagWithTheDefaultOfHelp() throws IOException {
        List<String> rows = Files.readAllLines(readme(), StandardCharsets.UTF_8).stream()
                .filter(l -> l.startsWith("| `--")).toList();
        Pattern helpDefault = Pattern.compile("\\(default:? ([^;),]+)");
        for (RunnerOptions.Flag f : RunnerOptions.Flag.values()) {
            String row = rows.stream().filter(r -> {
                String firstCell = r.substring(0, r.indexOf(" |", 2));
                return firstCell.contains("`" + f.flag + " ") || firstCell.contains("`" + f.flag + "`");
            })
                    .findFirst().orElseThrow(() -> new AssertionError("README: no row for " + f.flag + " in the flag table"));
            Matcher d = helpDefault.matcher(f.description);
            if (d.find()) {
                assertTrue(row.contains("default `" + d.group(1) + "`"),
                        () -> "README: the row of " + f.flag + " does not say default `" + d.group(1) + "` as --help does: " + row);
            }
        }
    }
}
