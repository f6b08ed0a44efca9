package dev.herald.app;

import dev.herald.app.projects.ProjectService;
import dev.herald.app.users.Role;
import dev.herald.app.users.User;
import dev.herald.app.users.UserRepository;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Demo users and one demo project, created on first start when {@code app.demo-users=true}. */
final class Seed {
  static final String PASSWORD = "herald-demo";

  /** login -> display name; carol is an admin. */
  static final Map<String, String> USERS = new LinkedHashMap<>();

  static {
    USERS.put("alice", "Alice Editor");
    USERS.put("bob", "Bob Reviewer");
    USERS.put("carol", "Carol Admin");
    USERS.put("dave", "Dave Writer");
  }

  private Seed() {}

  /** Returns true when it seeded (the database had no users). */
  static boolean run(UserRepository users, ProjectService projects) {
    if (!users.all().isEmpty()) {
      return false;
    }
    for (Map.Entry<String, String> u : USERS.entrySet()) {
      users.create(
          u.getKey(),
          u.getValue(),
          u.getKey().equals("carol") ? Role.ADMIN : Role.EDITOR,
          PASSWORD);
    }
    User alice = users.find("alice").orElseThrow();
    var p =
        projects.create(
            alice,
            "Spring campaign",
            "Landing page, teaser blocks and hero images for the spring launch.",
            List.of("bob", "dave"));
    projects.addItem(alice, p.id(), "page/12", 3, "Spring landing page", "page");
    projects.addItem(alice, p.id(), "block/40", 1, "Teaser: new collection", "block");
    projects.addItem(alice, p.id(), "media/7", 2, "Hero image", "media");
    return true;
  }
}
