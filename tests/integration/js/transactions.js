// kafkajs 2.2.4 transactions against straitd (test_kafkajs_transactions.sh):
//  1. producer.transaction(): 10 records committed, 10 aborted, 10 committed, each
//     transaction's records acknowledged before it ends (so the aborted ones are in
//     the log); a read_committed kafkajs consumer (readUncommitted: false) in its own
//     group reads exactly the 20 committed ones, nothing more within 3 s of the last.
//  2. consume-transform-produce with transaction.sendOffsets: 30 inputs of a topic, each
//     written as "out-<value>" in transactions of 10 with the consumed offsets; a second
//     consumer of the same group then finds nothing to read (the offsets were committed
//     with the outputs), and the output topic holds each input once.
//
// Usage: BOOTSTRAP=127.0.0.1:PORT node transactions.js
'use strict';

process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';
const { Kafka, logLevel } = require('kafkajs');

function fail(msg) {
  console.error(`transactions.js: FAIL: ${msg}`);
  process.exit(1);
}

const kafka = new Kafka({
  clientId: 'strait-kafkajs-txn',
  brokers: [process.env.BOOTSTRAP || fail('BOOTSTRAP must be set')],
  logLevel: logLevel.NOTHING,
  retry: { retries: 5 },
});

// Reads `topic` from the beginning with a read_committed consumer of `group` until
// nothing arrives for quietMs after at least `min` records (or 30 s pass); returns the
// values.
async function readAll(topic, group, min, quietMs) {
  const consumer = kafka.consumer({ groupId: group, readUncommitted: false, maxWaitTimeInMs: 200 });
  const values = [];
  let last = Date.now();
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      values.push(message.value.toString());
      last = Date.now();
    },
  });
  const start = Date.now();
  while (Date.now() - start < 30000 && !(values.length >= min && Date.now() - last > quietMs))
    await new Promise((r) => setTimeout(r, 100));
  await consumer.disconnect();
  return values;
}

async function txnOf(producer, topic, prefix, n, commit) {
  const txn = await producer.transaction();
  await txn.send({
    topic,
    messages: Array.from({ length: n }, (_, i) => ({ value: `${prefix}-${i}` })),
  });
  if (commit) await txn.commit();
  else await txn.abort();
}

async function main() {
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({
    topics: ['js-txn', 'js-in', 'js-out'].map((topic) => ({ topic, numPartitions: 1 })),
  });

  // 1. commit, abort, commit
  const producer = kafka.producer({
    transactionalId: 'js-app',
    maxInFlightRequests: 1,
    idempotent: true,
  });
  await producer.connect();
  await txnOf(producer, 'js-txn', 'c', 10, true);
  await txnOf(producer, 'js-txn', 'a', 10, false);
  await txnOf(producer, 'js-txn', 'd', 10, true);
  const got = await readAll('js-txn', 'js-reader', 20, 3000);
  const want = [...Array(10).keys()].map((i) => `c-${i}`).concat([...Array(10).keys()].map((i) => `d-${i}`));
  if (JSON.stringify(got) !== JSON.stringify(want))
    fail(`read_committed read ${got.length} records: ${got.join(',')}; want ${want.join(',')}`);
  console.log(`commit/abort/commit: read_committed read the ${got.length} committed records`);

  // 2. consume-transform-produce with sendOffsets
  const plain = kafka.producer();
  await plain.connect();
  await plain.send({
    topic: 'js-in',
    messages: Array.from({ length: 30 }, (_, i) => ({ value: `${i}` })),
  });
  await plain.disconnect();
  const ctp = kafka.producer({ transactionalId: 'js-ctp', maxInFlightRequests: 1, idempotent: true });
  await ctp.connect();
  const consumer = kafka.consumer({ groupId: 'js-ctp-group', readUncommitted: false });
  await consumer.connect();
  await consumer.subscribe({ topic: 'js-in', fromBeginning: true });
  let processed = 0;
  await consumer.run({
    autoCommit: false,
    eachBatchAutoResolve: false,
    eachBatch: async ({ batch, resolveOffset }) => {
      for (let i = 0; i < batch.messages.length; i += 10) {
        const chunk = batch.messages.slice(i, i + 10);
        const txn = await ctp.transaction();
        await txn.send({
          topic: 'js-out',
          messages: chunk.map((m) => ({ value: `out-${m.value.toString()}` })),
        });
        const next = (BigInt(chunk[chunk.length - 1].offset) + 1n).toString();
        await txn.sendOffsets({
          consumerGroupId: 'js-ctp-group',
          topics: [{ topic: 'js-in', partitions: [{ partition: batch.partition, offset: next }] }],
        });
        await txn.commit();
        for (const m of chunk) resolveOffset(m.offset);
        processed += chunk.length;
      }
    },
  });
  const start = Date.now();
  while (processed < 30 && Date.now() - start < 30000) await new Promise((r) => setTimeout(r, 100));
  await consumer.disconnect();
  if (processed !== 30) fail(`the loop processed ${processed} of 30 inputs within 30 s`);
  const left = await readAll('js-in', 'js-ctp-group', 0, 3000);
  if (left.length !== 0) fail(`the group re-read ${left.length} inputs: the offsets were not committed`);
  const out = await readAll('js-out', 'js-out-reader', 30, 2000);
  const wantOut = [...Array(30).keys()].map((i) => `out-${i}`);
  if (JSON.stringify(out) !== JSON.stringify(wantOut))
    fail(`the output holds ${out.length} records: ${out.join(',')}`);
  console.log('consume-transform-produce: 30 inputs, 30 outputs once, the offsets committed with them');
  await producer.disconnect();
  await ctp.disconnect();
  await admin.disconnect();
}

main().then(
  () => process.exit(0),
  (e) => fail(e && e.stack ? e.stack : String(e)),
);
