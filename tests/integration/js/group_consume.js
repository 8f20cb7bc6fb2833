// kafkajs 2.2.4 consumer groups against straitd (run by test_kafkajs_group.sh):
//
//   produce TOPIC COUNT       creates TOPIC (3 partitions), produces COUNT messages with
//                             keys and headers (acks=-1)
//   consume TOPIC GROUP COUNT a consumer group member (consumer.run, eachMessage) reads
//                             from the beginning until it has COUNT messages, verifying
//                             each one's key, value and headers and that every message
//                             arrives exactly once, in offset order per partition; it
//                             then disconnects (committing) and checks with
//                             admin.fetchOffsets that the group's committed offsets are
//                             the partitions' end offsets
//   again TOPIC GROUP         the same group again: after it joined and three fetches of
//                             its partitions came back, it must have received nothing
//
// Usage: BOOTSTRAP=127.0.0.1:PORT node group_consume.js MODE ARGS...
'use strict';

process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';
const { Kafka, logLevel } = require('kafkajs');

const PARTITIONS = 3;
const DEADLINE_MS = 60000;

function fail(msg) {
  console.error(`group_consume.js: FAIL: ${msg}`);
  process.exit(1);
}

function record(i) {
  return {
    key: `key-${i}`,
    value: `value-${i}-${'y'.repeat(i % 40)}`,
    headers: { seq: `${i}`, src: 'kafkajs-group' },
  };
}

function kafka() {
  return new Kafka({
    clientId: 'strait-kafkajs-group-test',
    brokers: [process.env.BOOTSTRAP],
    logLevel: logLevel.WARN,
    retry: { retries: 5 },
  });
}

async function produce(topic, count) {
  const k = kafka();
  const admin = k.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: PARTITIONS }], waitForLeaders: true });
  await admin.disconnect();
  const producer = k.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  for (let start = 0; start < count; start += 100) {
    const messages = [];
    for (let i = start; i < Math.min(count, start + 100); i++) messages.push(record(i));
    const res = await producer.send({ topic, acks: -1, messages });
    for (const r of res) if (r.errorCode !== 0) fail(`send at ${start}: ${JSON.stringify(r)}`);
  }
  await producer.disconnect();
  console.log(`produced ${count} messages with keys and headers into ${topic}`);
}

// Runs one consumer-group member until done() says so (or the deadline passes).
async function runMember(topic, group, onMessage, done, what) {
  const k = kafka();
  // maxWaitTimeInMs: an empty fetch comes back quickly, so "fetched three times and got
  // nothing" takes about a second, not 3 × the 5 s default.
  const consumer = k.consumer({
    groupId: group,
    sessionTimeout: 10000,
    heartbeatInterval: 1000,
    maxWaitTimeInMs: 250,
  });
  let joined = false;
  let fetchesAfterJoin = 0;
  consumer.on(consumer.events.GROUP_JOIN, (e) => {
    joined = true;
    console.log(`${what}: joined ${group} as ${e.payload.memberId}, assigned ${JSON.stringify(e.payload.memberAssignment)}`);
  });
  consumer.on(consumer.events.FETCH, () => {
    if (joined) fetchesAfterJoin++;
  });
  let crashed = null;
  consumer.on(consumer.events.CRASH, (e) => {
    crashed = e.payload.error;
  });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({ autoCommitInterval: 200, eachMessage: onMessage });
  const start = Date.now();
  while (!done({ joined, fetchesAfterJoin })) {
    if (crashed) fail(`${what}: the consumer crashed: ${crashed.stack || crashed}`);
    if (Date.now() - start > DEADLINE_MS) fail(`${what}: not done within ${DEADLINE_MS} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
  await consumer.disconnect(); // commits what was processed and leaves the group
}

async function checkCommitted(topic, group) {
  const admin = kafka().admin();
  await admin.connect();
  const ends = await admin.fetchTopicOffsets(topic);
  const committed = await admin.fetchOffsets({ groupId: group, topics: [topic] });
  await admin.disconnect();
  const byPartition = new Map(committed[0].partitions.map((p) => [p.partition, p.offset]));
  for (const e of ends) {
    const c = byPartition.get(e.partition);
    if (c !== e.high) fail(`${group} committed offset of ${topic} [${e.partition}] is ${c}, expected the end offset ${e.high}`);
  }
  console.log(`committed offsets of ${group} equal the end offsets: ${ends.map((e) => `${e.partition}:${e.high}`).join(' ')}`);
}

async function consume(topic, group, count) {
  const seen = new Set();
  const lastOffset = new Map();
  await runMember(
    topic,
    group,
    async ({ partition, message }) => {
      const key = message.key ? message.key.toString() : null;
      const m = /^key-(\d+)$/.exec(key || '');
      if (!m) fail(`unexpected key ${key} at ${topic} [${partition}] offset ${message.offset}`);
      const i = Number(m[1]);
      const want = record(i);
      const value = message.value ? message.value.toString() : null;
      if (value !== want.value) fail(`${key}: value ${value}, expected ${want.value}`);
      const headers = {};
      for (const [h, v] of Object.entries(message.headers || {})) headers[h] = v.toString();
      if (JSON.stringify(headers) !== JSON.stringify(want.headers)) {
        fail(`${key}: headers ${JSON.stringify(headers)}, expected ${JSON.stringify(want.headers)}`);
      }
      if (seen.has(i)) fail(`${key} delivered twice (again at ${topic} [${partition}] offset ${message.offset})`);
      seen.add(i);
      const off = Number(message.offset);
      if (lastOffset.has(partition) && off <= lastOffset.get(partition)) {
        fail(`${topic} [${partition}]: offset ${off} after ${lastOffset.get(partition)}`);
      }
      lastOffset.set(partition, off);
    },
    () => seen.size >= count,
    'consume',
  );
  for (let i = 0; i < count; i++) if (!seen.has(i)) fail(`key-${i} never arrived`);
  console.log(`consumed ${seen.size} messages, each once, keys, values and headers as produced`);
  await checkCommitted(topic, group);
}

async function again(topic, group) {
  let got = 0;
  await runMember(
    topic,
    group,
    async ({ partition, message }) => {
      got++;
      console.error(`again: unexpected message at ${topic} [${partition}] offset ${message.offset}`);
    },
    // joined, and three fetches (each covering every assigned partition) came back
    ({ joined, fetchesAfterJoin }) => joined && fetchesAfterJoin >= 3,
    'again',
  );
  if (got !== 0) fail(`the second run of ${group} received ${got} messages; its offsets were not committed`);
  console.log(`second run of ${group}: joined, fetched, received nothing new`);
}

async function main() {
  if (!process.env.BOOTSTRAP) fail('BOOTSTRAP must be set');
  const [mode, topic, a, b] = process.argv.slice(2);
  if (mode === 'produce' && topic && a) return produce(topic, Number(a));
  if (mode === 'consume' && topic && a && b) return consume(topic, a, Number(b));
  if (mode === 'again' && topic && a) return again(topic, a);
  fail('usage: group_consume.js produce TOPIC COUNT | consume TOPIC GROUP COUNT | again TOPIC GROUP');
}

main().catch((e) => fail(e && e.stack ? e.stack : String(e)));
