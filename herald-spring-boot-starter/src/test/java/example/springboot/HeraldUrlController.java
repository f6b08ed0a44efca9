package example.springboot;

import dev.herald.server.Herald;
import jakarta.servlet.http.HttpServletRequest;
import java.util.Map;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;

/**
 * Where the pages find Herald: the host they were served from (the session cookie belongs to it)
 * and Herald's port, whatever herald.server.port is.
 */
@RestController
public class HeraldUrlController {
  private final Herald herald;

  public HeraldUrlController(Herald herald) {
    this.herald = herald;
  }

  @GetMapping("/api/herald")
  public Map<String, String> heraldUrl(HttpServletRequest request) {
    return Map.of(
        "url", request.getScheme() + "://" + request.getServerName() + ":" + herald.port());
  }
}
