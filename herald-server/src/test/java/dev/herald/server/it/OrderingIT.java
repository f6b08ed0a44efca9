package dev.herald.server.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Concurrent publishers: every subscriber sees one gap-free sequence, and each publisher's order.
 */
class OrderingIT {
  @RegisterExtension static final TestServer server = TestServer.perClass();

  @Test
  void concurrentPublishersGiveEverySubscriberTheSameOrderedSequence() throws Exception {
    String channel = "test:concurrent";
    int publishers = 4;
    int each = 250;
    List<RawClient> subscribers = new ArrayList<>();
    try {
      for (int i = 0; i < 3; i++) {
        RawClient c = RawClient.connected(server, "user" + i);
        c.request("{\"type\":\"subscribe\",\"channel\":\"" + channel + "\"}");
        subscribers.add(c);
      }
      ExecutorService pool = Executors.newFixedThreadPool(publishers);
      List<Future<?>> done = new ArrayList<>();
      for (int p = 0; p < publishers; p++) {
        int publisher = p;
        done.add(
            pool.submit(
                () -> {
                  for (int i = 0; i < each; i++) {
                    String data = "{\"p\":" + publisher + ",\"i\":" + i + "}";
                    if (publisher % 2 == 0) {
                      assertThat(server.publishHttp(channel, data).statusCode()).isEqualTo(200);
                    } else {
                      server.herald().publish(channel, data).join();
                    }
                  }
                  return null;
                }));
      }
      for (Future<?> f : done) {
        f.get();
      }
      pool.shutdown();
      List<Integer> reference = null;
      for (RawClient c : subscribers) {
        List<JsonNode> pubs = c.pubs(channel, publishers * each);
        Map<Integer, Integer> nextPerPublisher = new HashMap<>();
        List<Integer> sequence = new ArrayList<>();
        long prev = pubs.get(0).get("offset").asLong() - 1;
        for (JsonNode pub : pubs) {
          assertThat(pub.get("offset").asLong()).isEqualTo(prev + 1);
          prev = pub.get("offset").asLong();
          int p = pub.get("data").get("p").asInt();
          int i = pub.get("data").get("i").asInt();
          assertThat(i).isEqualTo(nextPerPublisher.getOrDefault(p, 0));
          nextPerPublisher.put(p, i + 1);
          sequence.add(p * 10_000 + i);
        }
        if (reference == null) {
          reference = sequence;
        } else {
          assertThat(sequence).isEqualTo(reference);
        }
      }
    } finally {
      subscribers.forEach(RawClient::close);
    }
  }
}
