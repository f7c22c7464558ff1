// Prints a free TCP port on 127.0.0.1.
import { createServer } from 'node:net';
const s = createServer();
s.listen(0, '127.0.0.1', () => {
  console.log(s.address().port);
  s.close();
});
