// How the queue consumer groups a batch's messages into requests to MLflow
// (ingest/src/service.js groupMessages): by experiment, in order, under a byte bound; a payload
// bigger than the bound alone; messages this service would never send set apart.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { groupMessages } from '../../ingest/src/service.js';

const msg = (id, experimentId, bytes) => ({ id, body: { experimentId, payload: new Uint8Array(bytes).fill(id.length) } });
const ids = (g) => g.messages.map((m) => m.id);

test('messages are grouped by experiment, in order, each group under the byte bound', () => {
  const batch = [msg('a1', '7', 400), msg('b1', '8', 100), msg('a2', '7', 500), msg('a3', '7', 200), msg('b2', 8, 100), msg('a4', '7', 2000)];
  const { groups, bad } = groupMessages(batch, 1000);
  assert.deepEqual(bad, []);
  assert.deepEqual(groups.map((g) => [g.experimentId, ids(g), g.bytes]), [
    ['7', ['a1', 'a2'], 900],
    ['8', ['b1', 'b2'], 200], // the experiment id 8 (a number) and '8' are one experiment
    ['7', ['a3'], 200],
    ['7', ['a4'], 2000], // bigger than the bound: alone
  ]);
  for (const g of groups) assert.deepEqual(g.payloads, g.messages.map((m) => m.body.payload));
});

test('a bound of 0 makes one group per message; payloads may come as any byte view or buffer', () => {
  const buf = new ArrayBuffer(8);
  const batch = [msg('a', '1', 3), { id: 'b', body: { experimentId: '1', payload: buf } }, { id: 'c', body: { experimentId: '1', payload: new DataView(buf, 2, 4) } }];
  const { groups } = groupMessages(batch, 0);
  assert.deepEqual(groups.map(ids), [['a'], ['b'], ['c']]);
  assert.deepEqual(groups.map((g) => g.payloads[0].length), [3, 8, 4]);
  assert.ok(groups.every((g) => g.payloads[0] instanceof Uint8Array));
});

test('messages without an experiment or with no bytes are set apart, the rest still grouped', () => {
  const batch = [msg('ok1', '7', 10), { id: 'nobody' }, { id: 'text', body: { experimentId: '7', payload: 'spans' } }, { id: 'noexp', body: { payload: new Uint8Array(2) } }, msg('ok2', '7', 10)];
  const { groups, bad } = groupMessages(batch, 1 << 20);
  assert.deepEqual(bad.map((m) => m.id), ['nobody', 'text', 'noexp']);
  assert.deepEqual(groups.map(ids), [['ok1', 'ok2']]);
});
