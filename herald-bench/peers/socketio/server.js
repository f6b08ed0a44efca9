// Socket.IO peer for the Herald benchmark: every client joins room "bench"; POST /publish emits
// the JSON body to the room as event "m" (Socket.IO encodes a broadcast once for all sockets).
// WebSocket transport only, no HTTP long-polling upgrade dance, no per-message compression.
const http = require('http');
const { Server } = require('socket.io');

const port = Number(process.argv[2] || 8091);
const server = http.createServer((req, res) => {
  if (req.method === 'POST' && req.url === '/publish') {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      io.to('bench').emit('m', JSON.parse(Buffer.concat(chunks).toString('utf8')));
      res.writeHead(204, { 'Content-Length': '0' });
      res.end();
    });
  } else if (req.url === '/health') {
    res.writeHead(200, { 'Content-Length': '0' });
    res.end();
  } else if (!req.url.startsWith('/socket.io/')) {
    res.writeHead(404, { 'Content-Length': '0' });
    res.end();
  }
});
server.keepAliveTimeout = 600000;
const io = new Server(server, {
  transports: ['websocket'],
  perMessageDeflate: false,
  httpCompression: false,
  serveClient: false,
});
io.on('connection', (socket) => socket.join('bench'));
server.listen(port, '127.0.0.1', () => console.log(`socket.io listening on 127.0.0.1:${port}`));
