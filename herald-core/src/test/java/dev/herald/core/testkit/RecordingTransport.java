package dev.herald.core.testkit;

import dev.herald.core.hub.ClientSession;
import dev.herald.core.transport.EventLoop;
import dev.herald.core.transport.OutboundMessage;
import dev.herald.core.transport.TransportConnection;
import dev.herald.protocol.JsonCodec;
import dev.herald.protocol.ProtocolException;
import dev.herald.protocol.ServerMessage;
import dev.herald.protocol.ServerMessage.Reply;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * A {@link TransportConnection} that records what the hub sends, for tests.
 *
 * <p>Four kinds of loop: {@link #direct()} runs tasks inline on the calling thread (simplest, for
 * single-threaded tests); {@link #manual()} queues them on a {@link TestLoop} of its own until the
 * test calls {@link #runPending()}; {@link #on(TestLoop, String)} shares a test loop with other
 * transports, as the connections of one server thread do; {@link #threaded(String)} runs them on a
 * dedicated thread, like an event loop (for concurrency tests; {@link #close()} stops it). All but
 * the direct one check that the hub touches the transport only from the loop ({@link
 * #violations()}).
 *
 * <p>Every sent message is kept raw ({@link #outbound()}) and decoded with {@link
 * JsonCodec#decodeServer} ({@link #messages()}). A read cursor lets tests consume messages in
 * order: {@link #next}, {@link #awaitMessage}, {@link #assertNoMoreMessages}. Waiting methods
 * return at once when the message is already there and otherwise wait up to {@link
 * #DEFAULT_TIMEOUT} (with the manual executor, call {@link #runPending()} first: nothing runs while
 * the test thread waits).
 */
public final class RecordingTransport implements TransportConnection, AutoCloseable {
  public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(5);

  /** How the connection was closed by the hub. */
  public record Close(int code, String reason) {}

  private enum Mode {
    DIRECT,
    THREADED,
    /** On a {@link TestLoop}: its own (manual) or one testLoop with other transports. */
    LOOP
  }

  private static final JsonCodec CODEC = new JsonCodec();

  private final Mode mode;
  private final Executor executor;
  private final EventLoop loop;
  private final ExecutorService thread;
  private volatile Thread executorThread;
  private final String name;

  // Guarded by "this".
  private final List<OutboundMessage> outbound = new ArrayList<>();
  private final List<ServerMessage> messages = new ArrayList<>();
  private final List<Integer> batchSizes = new ArrayList<>();
  private final List<String> violations = new ArrayList<>();
  private int cursor;
  private Close close;
  private int closeCalls;

  private volatile boolean writable = true;
  private volatile boolean blockAfterSend;
  private volatile ClientSession session;

  private final TestLoop testLoop;

  private RecordingTransport(Mode mode, String name) {
    this(mode, name, null);
  }

  private RecordingTransport(Mode mode, String name, TestLoop testLoop) {
    this.mode = mode;
    this.name = name;
    this.testLoop = testLoop;
    switch (mode) {
      case LOOP:
        this.thread = null;
        this.executor = testLoop;
        break;
      case DIRECT:
        this.thread = null;
        this.executor = Runnable::run;
        break;
      default:
        this.thread =
            Executors.newSingleThreadExecutor(
                r -> {
                  Thread t = new Thread(r, "transport-" + name);
                  t.setDaemon(true);
                  executorThread = t;
                  return t;
                });
        this.executor = thread;
    }
    this.loop =
        new EventLoop() {
          @Override
          public boolean inLoop() {
            return switch (mode) {
              case DIRECT -> true;
              case THREADED -> executorThread == Thread.currentThread();
              case LOOP -> testLoop.inLoop();
            };
          }

          @Override
          public void execute(Runnable task) {
            executor.execute(task);
          }

          @Override
          public String toString() {
            return "loop of " + RecordingTransport.this.name;
          }
        };
  }

  /** Runs executor tasks inline on the submitting thread. */
  public static RecordingTransport direct() {
    return new RecordingTransport(Mode.DIRECT, "direct");
  }

  /** Queues executor tasks until {@link #runPending()}. */
  public static RecordingTransport manual() {
    return new RecordingTransport(Mode.LOOP, "manual", new TestLoop());
  }

  /** Shares a manual loop with other transports, as the connections of one server thread do. */
  public static RecordingTransport on(TestLoop loop, String name) {
    return new RecordingTransport(Mode.LOOP, name, loop);
  }

  /** Runs executor tasks on a dedicated daemon thread named {@code transport-<name>}. */
  public static RecordingTransport threaded(String name) {
    return new RecordingTransport(Mode.THREADED, name);
  }

  /** Lets {@link #writable(boolean)} notify the session, as a real transport does. */
  public void attach(ClientSession session) {
    this.session = session;
  }

  public ClientSession session() {
    return session;
  }

  // ------------------------------------------------------------------ TransportConnection

  @Override
  public String transport() {
    return "test";
  }

  @Override
  public EventLoop loop() {
    return testLoop != null ? testLoop : loop;
  }

  /** The connection's loop as a plain executor. */
  public Executor executor() {
    return loop();
  }

  @Override
  public void send(List<OutboundMessage> batch) {
    checkThread("send");
    List<ServerMessage> decoded = new ArrayList<>(batch.size());
    for (OutboundMessage m : batch) {
      try {
        decoded.add(CODEC.decodeServer(m.toString()));
      } catch (ProtocolException e) {
        throw new AssertionError(
            "hub sent undecodable message: " + m + " (" + e.getMessage() + ")", e);
      }
    }
    synchronized (this) {
      if (close != null) {
        violations.add("send after close: " + batch);
      }
      outbound.addAll(batch);
      messages.addAll(decoded);
      batchSizes.add(batch.size());
      notifyAll();
    }
    if (blockAfterSend) {
      writable = false; // a reader that takes one batch, then lets its buffer fill
    }
  }

  @Override
  public boolean writable() {
    checkThread("writable");
    return writable;
  }

  @Override
  public void close(int code, String reason) {
    checkThread("close");
    synchronized (this) {
      closeCalls++;
      if (close == null) {
        close = new Close(code, reason);
      } else {
        violations.add("closed twice: " + close + " then " + new Close(code, reason));
      }
      notifyAll();
    }
  }

  private void checkThread(String what) {
    if ((mode == Mode.THREADED && Thread.currentThread() != executorThread)
        || (mode == Mode.LOOP && !testLoop.inLoop())) {
      synchronized (this) {
        violations.add(
            what + " called on " + Thread.currentThread().getName() + ", not the executor thread");
      }
    }
  }

  // ------------------------------------------------------------------ test controls

  /** When on, every send leaves the transport not writable until {@link #writable(boolean)}. */
  public void blockAfterEachSend(boolean value) {
    blockAfterSend = value;
  }

  /**
   * Sets writability. Turning it back on tells the attached session, on the executor, as a real
   * transport does when its buffer drains.
   */
  public void writable(boolean value) {
    writable = value;
    ClientSession s = session;
    if (value && s != null) {
      executor.execute(s::onWritable);
    }
  }

  /** Runs queued executor tasks (manual mode), including tasks they queue; returns how many. */
  public int runPending() {
    return mode == Mode.LOOP ? testLoop.runPending() : 0;
  }

  /** Tasks queued on the manual executor. */
  public int pendingTasks() {
    return mode == Mode.LOOP ? testLoop.pendingTasks() : 0;
  }

  /** Waits until every task submitted so far to the threaded executor has run. */
  public void sync() {
    if (mode == Mode.THREADED) {
      try {
        thread.submit(() -> {}).get(DEFAULT_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
      } catch (Exception e) {
        throw new AssertionError("executor did not catch up", e);
      }
    } else if (mode == Mode.LOOP) {
      runPending();
    }
  }

  /** Stops the threaded executor (no-op otherwise). */
  @Override
  public void close() {
    if (thread != null) {
      thread.shutdownNow();
    }
  }

  // ------------------------------------------------------------------ recorded output

  /** Every message sent, decoded, in order. */
  public synchronized List<ServerMessage> messages() {
    return List.copyOf(messages);
  }

  /** Every sent message of a type, in order. */
  public synchronized <T extends ServerMessage> List<T> messages(Class<T> type) {
    List<T> out = new ArrayList<>();
    for (ServerMessage m : messages) {
      if (type.isInstance(m)) {
        out.add(type.cast(m));
      }
    }
    return out;
  }

  /** The raw encoded messages, in order; the very objects the hub handed to {@link #send}. */
  public synchronized List<OutboundMessage> outbound() {
    return List.copyOf(outbound);
  }

  /** Number of messages in each {@link #send} call. */
  public synchronized List<Integer> batchSizes() {
    return List.copyOf(batchSizes);
  }

  /** Contract violations seen (send after close, double close, wrong thread). */
  public synchronized List<String> violations() {
    return List.copyOf(violations);
  }

  /** How the hub closed the connection, or null while open. */
  public synchronized Close lastClose() {
    return close;
  }

  public synchronized int closeCalls() {
    return closeCalls;
  }

  public synchronized boolean isClosed() {
    return close != null;
  }

  /** Waits for the hub to close the connection. */
  public synchronized Close awaitClose() {
    waitFor(() -> close != null, "connection to be closed");
    return close;
  }

  /** Unread messages (after the cursor). */
  public synchronized List<ServerMessage> unread() {
    return List.copyOf(messages.subList(cursor, messages.size()));
  }

  /** Marks everything received so far as read. */
  public synchronized void skipAll() {
    cursor = messages.size();
  }

  /** The next unread message, waiting for it if needed. */
  public synchronized ServerMessage next() {
    waitFor(() -> cursor < messages.size(), "a message after " + describeRead());
    return messages.get(cursor++);
  }

  /** The next unread message, which must be of {@code type}. */
  public <T extends ServerMessage> T next(Class<T> type) {
    ServerMessage m = next();
    if (!type.isInstance(m)) {
      throw new AssertionError("expected " + type.getSimpleName() + " but got " + m);
    }
    return type.cast(m);
  }

  /** The next unread message, which must be a reply with this id. */
  public Reply nextReply(long id) {
    Reply r = next(Reply.class);
    if (r.id() != id) {
      throw new AssertionError("expected reply to " + id + " but got " + r);
    }
    return r;
  }

  /**
   * Waits until an unread message of {@code type} matches {@code predicate}, marks it and every
   * message before it as read, and returns it.
   */
  public synchronized <T extends ServerMessage> T awaitMessage(
      Class<T> type, Predicate<? super T> predicate) {
    int[] found = {-1};
    waitFor(
        () -> {
          for (int i = cursor; i < messages.size(); i++) {
            ServerMessage m = messages.get(i);
            if (type.isInstance(m) && predicate.test(type.cast(m))) {
              found[0] = i;
              return true;
            }
          }
          return false;
        },
        "a matching " + type.getSimpleName() + " after " + describeRead());
    cursor = found[0] + 1;
    return type.cast(messages.get(found[0]));
  }

  public <T extends ServerMessage> T awaitMessage(Class<T> type) {
    return awaitMessage(type, m -> true);
  }

  /** Waits for the reply with this id (skipping what comes before it). */
  public Reply awaitReply(long id) {
    return awaitMessage(Reply.class, r -> r.id() == id);
  }

  /** Waits until at least {@code count} messages of {@code type} were received in total. */
  public synchronized <T extends ServerMessage> List<T> awaitCount(Class<T> type, int count) {
    waitFor(() -> countOf(type) >= count, count + " messages of type " + type.getSimpleName());
    return messages(type);
  }

  /** Fails if there are unread messages. */
  public synchronized void assertNoMoreMessages() {
    if (cursor < messages.size()) {
      throw new AssertionError("unexpected messages: " + messages.subList(cursor, messages.size()));
    }
  }

  /** Fails if the hub broke the transport contract. */
  public synchronized void assertNoViolations() {
    if (!violations.isEmpty()) {
      throw new AssertionError("transport contract violations: " + violations);
    }
  }

  private int countOf(Class<?> type) {
    int n = 0;
    for (ServerMessage m : messages) {
      if (type.isInstance(m)) {
        n++;
      }
    }
    return n;
  }

  private String describeRead() {
    return cursor + " read of " + messages;
  }

  private interface Condition {
    boolean met();
  }

  // Called with the monitor held.
  private void waitFor(Condition c, String what) {
    long deadline = System.nanoTime() + DEFAULT_TIMEOUT.toNanos();
    while (!c.met()) {
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        throw new AssertionError("timed out waiting for " + what);
      }
      try {
        TimeUnit.NANOSECONDS.timedWait(this, left);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError("interrupted waiting for " + what, e);
      }
    }
  }

  @Override
  public String toString() {
    return "RecordingTransport[" + name + "]";
  }
}
