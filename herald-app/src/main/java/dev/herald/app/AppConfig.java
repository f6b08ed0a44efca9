package dev.herald.app;

import java.util.LinkedHashMap;
import java.util.Map;

/** The app's own configuration keys (beside Herald's), with defaults. See docs/configuration.md. */
public final class AppConfig {
  public static final Map<String, String> DEFAULTS = new LinkedHashMap<>();

  static {
    DEFAULTS.put("app.data-dir", "./data");
    DEFAULTS.put("app.db.url", "");
    DEFAULTS.put("app.db.user", "sa");
    DEFAULTS.put("app.db.password", "");
    DEFAULTS.put("app.db.pool-size", "10");
    DEFAULTS.put("app.session-ttl", "12h");
    DEFAULTS.put("app.session.cookie-secure", "auto");
    DEFAULTS.put("app.trusted-proxies", "");
    DEFAULTS.put("app.login.max-failures-per-account", "5");
    DEFAULTS.put("app.login.max-failures-per-address", "20");
    DEFAULTS.put("app.login.failure-window", "15m");
    DEFAULTS.put("app.login.max-delay", "15m");
    DEFAULTS.put("app.demo-users", "false");
    DEFAULTS.put("app.outbox.enabled", "true");
    DEFAULTS.put("app.outbox.interval", "1s");
    DEFAULTS.put("app.scheduler.interval", "1s");
    DEFAULTS.put("app.admin.stats-interval", "2s");
    DEFAULTS.put("logging.format", "text");
  }

  private AppConfig() {}

  /**
   * The value of one of the keys above in {@code settings} (the loaded configuration's extra keys),
   * or its default when {@code settings} lacks it.
   */
  public static String value(Map<String, String> settings, String key) {
    String v = settings.get(key);
    if (v == null) {
      v = DEFAULTS.get(key);
    }
    if (v == null) {
      throw new IllegalArgumentException("not a setting of the app: " + key);
    }
    return v;
  }
}
