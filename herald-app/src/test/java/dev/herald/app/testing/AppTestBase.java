package dev.herald.app.testing;

import org.junit.jupiter.params.AfterParameterizedClassInvocation;
import org.junit.jupiter.params.BeforeParameterizedClassInvocation;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Base of the app's integration tests: every subclass runs twice, once on H2 and once on a real
 * PostgreSQL, each time against a freshly started app with its own empty database.
 */
@ParameterizedClass(name = "on {0}")
@EnumSource(TestApp.Db.class)
public abstract class AppTestBase {
  protected static TestApp app;

  @Parameter protected TestApp.Db db;

  @BeforeParameterizedClassInvocation
  static void startApp(TestApp.Db db) {
    app = TestApp.start(db);
  }

  @AfterParameterizedClassInvocation
  static void stopApp() {
    if (app != null) {
      app.close();
      app = null;
    }
  }
}
