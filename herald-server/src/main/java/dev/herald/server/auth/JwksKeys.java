package dev.herald.server.auth;

import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.text.ParseException;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The public keys of a JSON Web Key Set (RFC 7517), from a file or an https URL, for tokens signed
 * with RS256 or ES256. Keys are found by {@code kid}. Rotation: when a token names a {@code kid}
 * that is not in the set, the set is fetched again, at most once per {@code minRefetchInterval} (on
 * the injected clock), so a flood of tokens with made-up ids cannot turn into a flood of requests
 * to the identity provider; a set that cannot be fetched or parsed keeps the keys known before.
 *
 * <p>Fetching blocks (file or HTTP, 5 s at most): {@link JwtAuthenticator} calls it off the event
 * loop.
 */
public final class JwksKeys {
  private static final Logger log = LoggerFactory.getLogger(JwksKeys.class);

  /** Where a set comes from: returns its JSON text. */
  @FunctionalInterface
  public interface Fetcher {
    String fetch() throws IOException;
  }

  private final Fetcher fetcher;
  private final String source;
  private final LongSupplier clock;
  private final long minRefetchMillis;

  // Guards keys and lastFetch: connects of every event loop look keys up here; a fetch happens
  // under it so that concurrent misses cause one fetch, not one each.
  private final Object lock = new Object();
  private JWKSet keys = new JWKSet();
  private long lastFetch = Long.MIN_VALUE;
  private int fetches;

  public JwksKeys(Fetcher fetcher, String source, LongSupplier clock, Duration minRefetchInterval) {
    this.fetcher = Objects.requireNonNull(fetcher);
    this.source = source;
    this.clock = clock;
    this.minRefetchMillis = minRefetchInterval.toMillis();
  }

  /** A set read from a file (read again on an unknown {@code kid}, as rotation needs). */
  public static JwksKeys file(Path file, LongSupplier clock, Duration minRefetchInterval) {
    return new JwksKeys(
        () -> Files.readString(file, StandardCharsets.UTF_8),
        file.toString(),
        clock,
        minRefetchInterval);
  }

  /** A set fetched from an http(s) URL, e.g. an identity provider's {@code jwks_uri}. */
  public static JwksKeys url(URI url, LongSupplier clock, Duration minRefetchInterval) {
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    Fetcher f =
        () -> {
          HttpRequest req =
              HttpRequest.newBuilder(url)
                  .timeout(Duration.ofSeconds(5))
                  .header("Accept", "application/json")
                  .build();
          try {
            HttpResponse<String> res = http.send(req, HttpResponse.BodyHandlers.ofString());
            if (res.statusCode() != 200) {
              throw new IOException("HTTP " + res.statusCode());
            }
            return res.body();
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
          }
        };
    return new JwksKeys(f, url.toString(), clock, minRefetchInterval);
  }

  /**
   * The keys for a token's {@code kid} (all keys when it has none), fetching the set again when the
   * id is unknown and the last fetch is at least the minimum interval ago. Empty when none match.
   */
  public List<JWK> select(String kid) {
    synchronized (lock) {
      List<JWK> found = match(kid);
      if (!found.isEmpty()) {
        return found;
      }
      long now = clock.getAsLong();
      if (lastFetch != Long.MIN_VALUE && now - lastFetch < minRefetchMillis) {
        return found;
      }
      lastFetch = now;
      fetches++;
      try {
        keys = JWKSet.parse(fetcher.fetch());
      } catch (IOException | ParseException e) {
        log.warn(
            "cannot read the JWKS from {}: {} (keeping the keys known before)",
            source,
            e.getMessage());
      }
      return match(kid);
    }
  }

  /** How many times the set was fetched (for tests and diagnostics). */
  public int fetches() {
    synchronized (lock) {
      return fetches;
    }
  }

  private List<JWK> match(String kid) {
    if (kid == null) {
      return keys.getKeys();
    }
    JWK k = keys.getKeyByKeyId(kid);
    return k == null ? List.of() : List.of(k);
  }
}
