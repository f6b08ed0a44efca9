package dev.herald.server.build;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * herald-bom has no parent (so importing it brings only Herald's versions): this keeps its version
 * equal to the build's and its list equal to the published modules, which docs/embedding.md lists
 * with their coordinates.
 */
class BomTest {
  /** Modules that are not libraries: applications, benchmarks, the BOM itself. */
  static final Set<String> NOT_PUBLISHED = Set.of("herald-bom", "herald-app", "herald-bench");

  static String read(String path) throws Exception {
    return Files.readString(Path.of(path), StandardCharsets.UTF_8);
  }

  static List<String> all(Pattern p, String text) {
    Matcher m = p.matcher(text);
    List<String> out = new java.util.ArrayList<>();
    while (m.find()) {
      out.add(m.group(1));
    }
    return out;
  }

  static String version(String pom) {
    // The project's own version: the first <version> after its <artifactId>, outside <parent>.
    String own = pom.replaceAll("(?s)<parent>.*?</parent>", "");
    Matcher m = Pattern.compile("<version>([^<]+)</version>").matcher(own);
    assertThat(m.find()).isTrue();
    return m.group(1);
  }

  @Test
  void theBomHasTheBuildsVersionAndEveryPublishedModule() throws Exception {
    String parent = read("../pom.xml");
    String bom = read("../herald-bom/pom.xml");
    assertThat(bom).doesNotContain("<parent>");
    assertThat(version(bom)).isEqualTo(version(parent));
    List<String> modules = all(Pattern.compile("<module>([^<]+)</module>"), parent);
    assertThat(modules).contains("herald-bom");
    List<String> published = modules.stream().filter(m -> !NOT_PUBLISHED.contains(m)).toList();
    List<String> managed =
        all(
            Pattern.compile("<artifactId>([^<]+)</artifactId>"),
            bom.substring(
                bom.indexOf("<dependencyManagement>"), bom.indexOf("</dependencyManagement>")));
    assertThat(managed)
        .as("herald-bom must list every published module (or BomTest.NOT_PUBLISHED name it)")
        .containsExactlyInAnyOrderElementsOf(published);
    String guide = read("../docs/embedding.md");
    for (String artifact : published) {
      assertThat(guide).contains("| `dev.herald:" + artifact + "` |");
    }
    assertThat(guide).contains("<artifactId>herald-bom</artifactId>");
  }
}
