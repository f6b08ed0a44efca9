package dev.herald.server.transport;

import dev.herald.core.transport.EventLoop;
import io.vertx.core.Context;
import io.vertx.core.internal.ContextInternal;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The hub's view of the server's event loops: one {@link EventLoop} per Vert.x event-loop thread,
 * whatever request context a connection was opened on, so that the hub can group the connections of
 * one thread (one fan-out task, one coalesced flush per loop). Tasks run on the loop's base
 * context.
 */
public final class VertxLoops {
  private final Map<io.netty.channel.EventLoop, Loop> loops = new ConcurrentHashMap<>();

  /** The loop of the thread that runs {@code context}. */
  public EventLoop of(Context context) {
    ContextInternal c = (ContextInternal) context;
    return loops.computeIfAbsent(c.nettyEventLoop(), el -> new Loop(el, c.unwrap()));
  }

  /**
   * The loop of a Netty event loop of this server, for connections that left Vert.x (upgraded
   * WebSockets). The loop must have been seen through {@link #of(Context)} before.
   */
  public EventLoop of(io.netty.channel.EventLoop eventLoop) {
    Loop loop = loops.get(eventLoop);
    if (loop == null) {
      throw new IllegalStateException("not an event loop of this server: " + eventLoop);
    }
    return loop;
  }

  private static final class Loop implements EventLoop {
    private final io.netty.channel.EventLoop eventLoop;
    private final ContextInternal context;

    Loop(io.netty.channel.EventLoop eventLoop, ContextInternal context) {
      this.eventLoop = eventLoop;
      this.context = context;
    }

    @Override
    public boolean inLoop() {
      return eventLoop.inEventLoop();
    }

    @Override
    public void execute(Runnable task) {
      context.runOnContext(v -> task.run());
    }

    @Override
    public String toString() {
      return "loop " + eventLoop;
    }
  }
}
