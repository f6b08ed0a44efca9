package dev.herald.server.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSSigner;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import com.sun.net.httpserver.HttpServer;
import dev.herald.client.HeraldClient;
import dev.herald.client.HeraldException;
import dev.herald.protocol.ErrorCode;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A server configured with {@code auth.jwt.jwks-url} pointing to an identity provider (a real HTTP
 * server here) accepts RS256 and ES256 tokens from the Java client, and picks up a rotated key
 * without a restart.
 */
class JwksIT {
  static HttpServer idp;
  static final AtomicReference<String> jwks = new AtomicReference<>();
  static final AtomicInteger fetches = new AtomicInteger();
  static TestServer server;
  static RSAKey rsa;
  static ECKey ec;

  @BeforeAll
  static void start() throws Exception {
    rsa = new RSAKeyGenerator(2048).keyID("rsa-1").generate();
    ec = new ECKeyGenerator(Curve.P_256).keyID("ec-1").generate();
    publish(rsa, ec);
    idp = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    idp.createContext(
        "/certs",
        ex -> {
          fetches.incrementAndGet();
          byte[] body = jwks.get().getBytes(StandardCharsets.UTF_8);
          ex.getResponseHeaders().add("Content-Type", "application/json");
          ex.sendResponseHeaders(200, body.length);
          ex.getResponseBody().write(body);
          ex.close();
        });
    idp.start();
    Map<String, String> config = TestServer.baseConfig();
    config.put("auth.jwt.jwks-url", "http://127.0.0.1:" + idp.getAddress().getPort() + "/certs");
    config.put("auth.jwt.jwks-refetch-interval", "0");
    server = TestServer.start(config);
  }

  @AfterAll
  static void stop() {
    if (server != null) {
      server.close();
    }
    if (idp != null) {
      idp.stop(0);
    }
  }

  static void publish(JWK... keys) {
    List<JWK> pub = new ArrayList<>();
    for (JWK k : keys) {
      pub.add(k.toPublicJWK());
    }
    jwks.set(new JWKSet(pub).toString());
  }

  static String token(JWSAlgorithm alg, String kid, JWSSigner signer, String sub) throws Exception {
    long now = System.currentTimeMillis();
    SignedJWT jwt =
        new SignedJWT(
            new JWSHeader.Builder(alg).keyID(kid).build(),
            new JWTClaimsSet.Builder()
                .subject(sub)
                .issueTime(new Date(now))
                .expirationTime(new Date(now + 600_000))
                .build());
    jwt.sign(signer);
    return jwt.serialize();
  }

  static String connectAs(String token) throws Exception {
    HeraldClient c = HeraldClient.builder(server.wsUri()).token(token).build();
    try {
      return c.connect().get(15, TimeUnit.SECONDS).user();
    } finally {
      c.close();
    }
  }

  @Test
  void rs256AndEs256TokensConnectAndARotatedKeyIsPickedUp() throws Exception {
    assertThat(connectAs(token(JWSAlgorithm.RS256, "rsa-1", new RSASSASigner(rsa), "alice")))
        .isEqualTo("alice");
    assertThat(connectAs(token(JWSAlgorithm.ES256, "ec-1", new ECDSASigner(ec), "bob")))
        .isEqualTo("bob");
    int before = fetches.get();
    RSAKey next = new RSAKeyGenerator(2048).keyID("rsa-2").generate();
    publish(rsa, ec, next);
    assertThat(connectAs(token(JWSAlgorithm.RS256, "rsa-2", new RSASSASigner(next), "carol")))
        .isEqualTo("carol");
    assertThat(fetches.get()).isEqualTo(before + 1);
  }

  @Test
  void aTokenFromAnUnknownKeyIsRefusedWith101() throws Exception {
    RSAKey stranger = new RSAKeyGenerator(2048).keyID("rsa-1").generate();
    String forged = token(JWSAlgorithm.RS256, "rsa-1", new RSASSASigner(stranger), "mallory");
    HeraldClient c = HeraldClient.builder(server.wsUri()).token(forged).build();
    try {
      Throwable failure = null;
      try {
        c.connect().get(15, TimeUnit.SECONDS);
      } catch (ExecutionException e) {
        failure = e.getCause();
      }
      assertThat(failure).isInstanceOf(HeraldException.class);
      HeraldException he = (HeraldException) failure;
      // Refused with 101 (unauthorized), the connection closed with 4500.
      assertThat(
              he.errorCode() == ErrorCode.UNAUTHORIZED
                  || (he.close() != null && he.close().code() == 4500))
          .as("%s", he)
          .isTrue();
    } finally {
      c.close();
    }
  }
}
