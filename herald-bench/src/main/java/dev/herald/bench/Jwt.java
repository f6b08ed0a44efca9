package dev.herald.bench;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/** HS256 connection tokens, as the application behind Herald would mint them. */
final class Jwt {
  private Jwt() {}

  static String hs256(String secret, String subject, long ttlSeconds) {
    Base64.Encoder b64 = Base64.getUrlEncoder().withoutPadding();
    String header = b64.encodeToString("{\"alg\":\"HS256\",\"typ\":\"JWT\"}".getBytes(UTF8));
    long exp = System.currentTimeMillis() / 1000 + ttlSeconds;
    String claims =
        b64.encodeToString(("{\"sub\":\"" + subject + "\",\"exp\":" + exp + "}").getBytes(UTF8));
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(secret.getBytes(UTF8), "HmacSHA256"));
      byte[] sig = mac.doFinal((header + "." + claims).getBytes(UTF8));
      return header + "." + claims + "." + b64.encodeToString(sig);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  private static final java.nio.charset.Charset UTF8 = StandardCharsets.UTF_8;
}
