// The floor Parley's gateway is measured against: a bare node:http pass-through to the upstream,
// keep-alive, nothing parsed. Prints its port as one JSON line. Usage: node bare-proxy.mjs <upstream base URL>
import http from "node:http";

const target = new URL(process.argv[2]);
const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });

const server = http.createServer((req, res) => {
  const up = http.request(
    { host: target.hostname, port: target.port, method: req.method, path: target.pathname + req.url.replace(/^\/v1/, ""), headers: { "content-type": req.headers["content-type"] ?? "application/json" }, agent },
    (upRes) => {
      res.writeHead(upRes.statusCode ?? 502, upRes.headers);
      upRes.pipe(res);
    },
  );
  up.on("error", () => res.destroy());
  res.on("close", () => up.destroy());
  req.pipe(up);
});
server.keepAliveTimeout = 60_000;
server.listen(0, "127.0.0.1", () => console.log(JSON.stringify({ port: server.address().port })));
