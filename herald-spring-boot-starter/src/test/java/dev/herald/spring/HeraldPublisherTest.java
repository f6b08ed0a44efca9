package dev.herald.spring;

import static org.assertj.core.api.Assertions.assertThat;

import dev.herald.protocol.StreamPosition;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicReference;
import org.h2.jdbcx.JdbcDataSource;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

/** publishAfterCommit against a real transaction manager (JDBC on H2) and a running Herald. */
class HeraldPublisherTest {
  private final ApplicationContextRunner herald =
      new ApplicationContextRunner()
          .withConfiguration(AutoConfigurations.of(HeraldAutoConfiguration.class))
          .withPropertyValues(
              "herald.server.port=0",
              HeraldAutoConfigurationTest.JWT,
              "herald.namespaces=desk",
              "herald.namespace.desk.history-size=10");

  /** Calls publishAfterCommit in a JDBC transaction that commits or rolls back. */
  private static CompletableFuture<StreamPosition> inTransaction(
      HeraldPublisher publisher, boolean commit) {
    JdbcDataSource h2 = new JdbcDataSource();
    h2.setURL("jdbc:h2:mem:publisher;DB_CLOSE_DELAY=-1");
    AtomicReference<CompletableFuture<StreamPosition>> sent = new AtomicReference<>();
    new TransactionTemplate(new DataSourceTransactionManager(h2))
        .executeWithoutResult(
            tx -> {
              sent.set(publisher.publishAfterCommit("desk:news", "{\"id\":1}"));
              assertThat(sent.get()).as("not before the transaction ends").isNotDone();
              if (!commit) {
                tx.setRollbackOnly();
              }
            });
    return sent.get();
  }

  @Test
  void waitsForTheCommit() {
    herald.run(
        context -> {
          HeraldPublisher publisher = context.getBean(HeraldPublisher.class);
          StreamPosition position =
              inTransaction(publisher, true).get(10, java.util.concurrent.TimeUnit.SECONDS);
          assertThat(position.offset()).isEqualTo(1);
        });
  }

  @Test
  void dropsWhatARolledBackTransactionPublished() {
    herald.run(
        context -> {
          HeraldPublisher publisher = context.getBean(HeraldPublisher.class);
          assertThat(inTransaction(publisher, false))
              .failsWithin(Duration.ofSeconds(1))
              .withThrowableThat()
              .havingCause()
              .isInstanceOf(HeraldPublisher.TransactionRolledBackException.class);
          // The next publication is the channel's first: nothing was published.
          assertThat(publisher.publish("desk:news", "{\"id\":2}").get().offset()).isEqualTo(1);
        });
  }

  @Test
  void withoutATransactionPublishesAtOnceAndReportsBadInput() {
    herald.run(
        context -> {
          HeraldPublisher publisher = context.getBean(HeraldPublisher.class);
          assertThat(publisher.publishAfterCommit("desk:news", "{\"id\":1}").get().offset())
              .isEqualTo(1);
          assertThat(publisher.publish("desk:news", "not json"))
              .failsWithin(Duration.ofSeconds(1))
              .withThrowableThat()
              .havingCause()
              .isInstanceOf(IllegalArgumentException.class);
        });
  }
}
