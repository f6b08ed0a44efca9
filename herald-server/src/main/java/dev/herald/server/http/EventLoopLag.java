package dev.herald.server.http;

import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.ScheduledFuture;
import io.vertx.core.Vertx;
import io.vertx.core.internal.VertxInternal;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * How late the server's event loops run their tasks, the readiness signal of a node that is up but
 * too busy to serve in time (a freshly started JVM still compiling under load, a handler that
 * blocks, long GC pauses). Each loop runs a small probe every {@link #INTERVAL_MS}; its lag is how
 * much later than due the probe ran, or, while a loop is stuck right now, how long its next probe
 * is overdue. The node is healthy while every loop's lag is at most the threshold ({@code
 * server.max-event-loop-lag}).
 *
 * <p>A probe on a stuck loop cannot run, so the overdue time is what reports a loop that is blocked
 * at this moment; the lag of the last probe keeps reporting it until the loop has run a probe on
 * time again (one interval after it was freed).
 */
public final class EventLoopLag implements AutoCloseable {
  /** How often each loop is probed. */
  public static final long INTERVAL_MS = 100;

  private final LongSupplier clock;
  private final long thresholdMs;
  private final List<Probe> probes = new CopyOnWriteArrayList<>();
  private final List<ScheduledFuture<?>> scheduled = new CopyOnWriteArrayList<>();
  private volatile boolean closed;

  /**
   * A monitor whose probes are run by the caller ({@link Probe#ran()}), on a clock in milliseconds
   * (monotonic; tests pass a manual one).
   */
  public EventLoopLag(LongSupplier clock, Duration threshold) {
    this.clock = clock;
    this.thresholdMs = threshold.toMillis();
  }

  /** Probes every event loop of {@code vertx}; {@link #close} stops them. */
  public static EventLoopLag watch(Vertx vertx, Duration threshold) {
    EventLoopLag lag = new EventLoopLag(() -> System.nanoTime() / 1_000_000, threshold);
    for (EventExecutor loop : ((VertxInternal) vertx).nettyEventLoopGroup()) {
      lag.probeOn(loop, lag.probe());
    }
    return lag;
  }

  private void probeOn(EventExecutor loop, Probe probe) {
    if (closed) {
      return;
    }
    scheduled.add(
        loop.schedule(
            () -> {
              probe.ran();
              probeOn(loop, probe);
            },
            INTERVAL_MS,
            TimeUnit.MILLISECONDS));
    scheduled.removeIf(ScheduledFuture::isDone);
  }

  /** A new probe, due {@link #INTERVAL_MS} from now and then each interval after it ran. */
  public Probe probe() {
    Probe p = new Probe(clock.getAsLong());
    probes.add(p);
    return p;
  }

  /** The worst lag of any loop now, in milliseconds. */
  public long worstMillis() {
    long now = clock.getAsLong();
    long worst = 0;
    for (Probe p : probes) {
      worst = Math.max(worst, p.lagMillis(now));
    }
    return worst;
  }

  /** Whether every loop keeps up: lag at most the threshold (always, with a threshold of 0). */
  public boolean healthy() {
    return thresholdMs <= 0 || worstMillis() <= thresholdMs;
  }

  @Override
  public void close() {
    closed = true;
    scheduled.forEach(f -> f.cancel(false));
  }

  /** One loop's probe. Written by its loop, read by whoever asks for readiness. */
  public final class Probe {
    private volatile long lastRan;
    private volatile long lastLag;

    private Probe(long start) {
      this.lastRan = start;
    }

    /** The probe ran now (it was due one interval after it last ran). */
    public void ran() {
      long now = clock.getAsLong();
      lastLag = Math.max(0, now - lastRan - INTERVAL_MS);
      lastRan = now;
    }

    long lagMillis(long now) {
      return Math.max(lastLag, now - lastRan - INTERVAL_MS);
    }
  }
}
