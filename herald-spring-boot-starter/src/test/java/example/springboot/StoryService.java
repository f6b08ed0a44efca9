package example.springboot;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.herald.spring.HeraldPublisher;
import java.util.Map;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Service;
import org.springframework.transaction.annotation.Transactional;

/** Saves stories and tells the newsroom's pages once the change is committed. */
@Service
public class StoryService {
  static final String CHANNEL = "desk:news";

  private final JdbcTemplate db;
  private final HeraldPublisher herald;
  private final ObjectMapper json;

  public StoryService(JdbcTemplate db, HeraldPublisher herald, ObjectMapper json) {
    this.db = db;
    this.herald = herald;
    this.json = json;
  }

  /** Saves a story; its publication leaves when the transaction commits. */
  @Transactional
  public long publish(String title) {
    db.update("insert into story(title) values (?)", title);
    long id = db.queryForObject("select max(id) from story", Long.class);
    herald.publishAfterCommit(CHANNEL, event("published", id, title));
    return id;
  }

  /**
   * Saves a story, then fails a check: the transaction rolls back, and its publication, already
   * requested, is dropped with it.
   */
  @Transactional
  public long publishUnchecked(String title) {
    db.update("insert into story(title) values (?)", title);
    long id = db.queryForObject("select max(id) from story", Long.class);
    herald.publishAfterCommit(CHANNEL, event("published", id, title));
    throw new IllegalStateException("story " + id + " has no desk editor's approval");
  }

  public int count(String title) {
    return db.queryForObject("select count(*) from story where title = ?", Integer.class, title);
  }

  private String event(String type, long id, String title) {
    try {
      return json.writeValueAsString(Map.of("type", type, "id", id, "title", title));
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException(e);
    }
  }
}
