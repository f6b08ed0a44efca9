package dev.herald.client;

import static org.assertj.core.api.Assertions.assertThat;

import dev.herald.client.PositionTracker.PubOutcome;
import dev.herald.client.PositionTracker.SubscribeOutcome;
import dev.herald.protocol.StreamPosition;
import org.junit.jupiter.api.Test;

class PositionTrackerTest {
  private static StreamPosition pos(String epoch, long offset) {
    return new StreamPosition(epoch, offset);
  }

  @Test
  void freshSubscribeTakesTheReplyPosition() {
    PositionTracker t = new PositionTracker(null);
    assertThat(t.position()).isNull();
    assertThat(t.onSubscribed(null, "e1", 57, false)).isEqualTo(SubscribeOutcome.FRESH);
    assertThat(t.position()).isEqualTo(pos("e1", 57));
  }

  @Test
  void publicationsAdvanceOneByOne() {
    PositionTracker t = new PositionTracker(null);
    t.onSubscribed(null, "e1", 0, false);
    assertThat(t.onPub("e1", 1)).isEqualTo(PubOutcome.ACCEPT);
    assertThat(t.onPub("e1", 2)).isEqualTo(PubOutcome.ACCEPT);
    assertThat(t.position()).isEqualTo(pos("e1", 2));
  }

  @Test
  void duplicatesAreDroppedWithoutMovingThePosition() {
    PositionTracker t = new PositionTracker(pos("e1", 10));
    assertThat(t.onPub("e1", 10)).isEqualTo(PubOutcome.DUPLICATE);
    assertThat(t.onPub("e1", 3)).isEqualTo(PubOutcome.DUPLICATE);
    assertThat(t.onPub("e1", 0)).isEqualTo(PubOutcome.DUPLICATE);
    assertThat(t.position()).isEqualTo(pos("e1", 10));
  }

  @Test
  void skippedOffsetIsAGap() {
    PositionTracker t = new PositionTracker(pos("e1", 10));
    assertThat(t.onPub("e1", 12)).isEqualTo(PubOutcome.GAP);
    assertThat(t.position()).isEqualTo(pos("e1", 10));
    assertThat(t.onPub("e1", 11)).isEqualTo(PubOutcome.ACCEPT);
  }

  @Test
  void otherEpochIsAGapWhateverTheOffset() {
    PositionTracker t = new PositionTracker(pos("e1", 10));
    assertThat(t.onPub("e2", 11)).isEqualTo(PubOutcome.GAP);
    assertThat(t.onPub("e2", 1)).isEqualTo(PubOutcome.GAP);
    assertThat(t.onPub("e2", 5)).isEqualTo(PubOutcome.GAP);
    assertThat(t.position()).isEqualTo(pos("e1", 10));
  }

  @Test
  void successfulRecoveryKeepsThePositionAtSinceUntilTheMissedPublicationsArrive() {
    PositionTracker t = new PositionTracker(pos("e1", 57));
    assertThat(t.onSubscribed(pos("e1", 57), "e1", 60, true)).isEqualTo(SubscribeOutcome.RECOVERED);
    assertThat(t.position()).isEqualTo(pos("e1", 57));
    assertThat(t.onPub("e1", 58)).isEqualTo(PubOutcome.ACCEPT);
    assertThat(t.onPub("e1", 59)).isEqualTo(PubOutcome.ACCEPT);
    assertThat(t.onPub("e1", 60)).isEqualTo(PubOutcome.ACCEPT);
    assertThat(t.onPub("e1", 61)).isEqualTo(PubOutcome.ACCEPT);
    assertThat(t.position()).isEqualTo(pos("e1", 61));
  }

  @Test
  void failedRecoveryMeansStateLostAndContinuesFromTheReply() {
    PositionTracker t = new PositionTracker(pos("e1", 57));
    assertThat(t.onSubscribed(pos("e1", 57), "e2", 3, false))
        .isEqualTo(SubscribeOutcome.STATE_LOST);
    assertThat(t.position()).isEqualTo(pos("e2", 3));
    assertThat(t.onPub("e2", 4)).isEqualTo(PubOutcome.ACCEPT);
  }

  @Test
  void recoveredInAnotherEpochIsTreatedAsLost() {
    PositionTracker t = new PositionTracker(pos("e1", 57));
    assertThat(t.onSubscribed(pos("e1", 57), "e2", 3, true)).isEqualTo(SubscribeOutcome.STATE_LOST);
    assertThat(t.position()).isEqualTo(pos("e2", 3));
  }

  @Test
  void recoveredFlagWithoutSinceIsJustFresh() {
    PositionTracker t = new PositionTracker(null);
    assertThat(t.onSubscribed(null, "e1", 9, true)).isEqualTo(SubscribeOutcome.FRESH);
    assertThat(t.position()).isEqualTo(pos("e1", 9));
  }
}
