package dev.herald.server.websocket;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.WebSocketFrame;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * Joins text frames into messages and enforces the message size limit itself, so an oversize
 * message gets a proper close frame with 1009. (Vert.x's own limits, set higher as a hard ceiling,
 * drop the TCP connection without a close frame.) Used on one connection's event loop.
 */
final class FrameAssembler {
  /** What to do with a frame. */
  interface Sink {
    void message(String text);

    void tooBig();

    void binary();

    void invalidUtf8();
  }

  private final int maxBytes;
  private final Sink sink;
  private Buffer partial;
  private boolean discarding;

  FrameAssembler(int maxBytes, Sink sink) {
    this.maxBytes = maxBytes;
    this.sink = sink;
  }

  void onFrame(WebSocketFrame frame) {
    if (discarding) {
      return;
    }
    if (frame.isBinary()) {
      discarding = true;
      sink.binary();
      return;
    }
    if (frame.isText()) {
      partial = Buffer.buffer();
    } else if (!frame.isContinuation() || partial == null) {
      return; // ping, pong and close are handled by the server library
    }
    Buffer data = frame.binaryData();
    if (partial.length() + data.length() > maxBytes) {
      discarding = true;
      partial = null;
      sink.tooBig();
      return;
    }
    partial.appendBuffer(data);
    if (frame.isFinal()) {
      Buffer complete = partial;
      partial = null;
      String text;
      try {
        text =
            StandardCharsets.UTF_8
                .newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT)
                .decode(ByteBuffer.wrap(complete.getBytes()))
                .toString();
      } catch (CharacterCodingException e) {
        discarding = true;
        sink.invalidUtf8();
        return;
      }
      sink.message(text);
    }
  }
}
