// kafkajs 2.2.4 against straitd: create a topic with the admin client, produce 1,000
// messages with keys and headers (acks=-1, in batches of 100), check the offsets the
// broker acknowledged and the topic's offsets (admin.fetchTopicOffsets), and write the
// expected records to a file for the shell test to compare with what kcat reads back.
//
// The content is verified with kcat -C (no group) by test_kafkajs.sh, so this script
// proves the producer and admin paths plus the acknowledged offsets independently of the
// group coordinator; group_consume.js (test_kafkajs_group.sh) reads back with a kafkajs
// consumer group.
//
// Usage: BOOTSTRAP=127.0.0.1:PORT node produce_consume.js EXPECTED_FILE
'use strict';

process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';
const fs = require('fs');
const { Kafka, logLevel } = require('kafkajs');

const TOPIC = 'kafkajs';
const COUNT = 1000;
const BATCH = 100;

function fail(msg) {
  console.error(`produce_consume.js: FAIL: ${msg}`);
  process.exit(1);
}

function record(i) {
  return {
    key: `key-${i}`,
    value: `value-${i}-${'x'.repeat(i % 50)}`,
    headers: { h: `${i}`, src: 'kafkajs' },
  };
}

async function main() {
  const bootstrap = process.env.BOOTSTRAP;
  const expectedFile = process.argv[2];
  if (!bootstrap || !expectedFile) fail('usage: BOOTSTRAP=host:port node produce_consume.js EXPECTED_FILE');

  const kafka = new Kafka({
    clientId: 'strait-kafkajs-test',
    brokers: [bootstrap],
    logLevel: logLevel.WARN,
    retry: { retries: 3 },
  });
  const admin = kafka.admin();
  await admin.connect();

  const created = await admin.createTopics({
    topics: [{ topic: TOPIC, numPartitions: 1, replicationFactor: 1 }],
    waitForLeaders: true,
  });
  if (created !== true) fail(`createTopics returned ${created}, expected true (a new topic)`);
  const topics = await admin.listTopics();
  if (!topics.includes(TOPIC)) fail(`listTopics does not include ${TOPIC}: ${topics}`);
  const meta = await admin.fetchTopicMetadata({ topics: [TOPIC] });
  if (meta.topics[0].partitions.length !== 1) fail(`${TOPIC} has ${meta.topics[0].partitions.length} partitions, expected 1`);
  console.log(`admin: created ${TOPIC}, listed, metadata ok`);

  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  let next = 0;
  for (let start = 0; start < COUNT; start += BATCH) {
    const messages = [];
    for (let i = start; i < start + BATCH; i++) messages.push({ ...record(i), partition: 0 });
    const res = await producer.send({ topic: TOPIC, acks: -1, messages });
    if (res.length !== 1 || res[0].errorCode !== 0) fail(`send at ${start}: ${JSON.stringify(res)}`);
    if (Number(res[0].baseOffset) !== next) fail(`batch at ${start} got base offset ${res[0].baseOffset}, expected ${next}`);
    next += BATCH;
  }
  await producer.disconnect();
  console.log(`producer: ${COUNT} messages acknowledged at offsets 0..${COUNT - 1}`);

  const offsets = await admin.fetchTopicOffsets(TOPIC);
  if (offsets.length !== 1 || offsets[0].low !== '0' || offsets[0].high !== String(COUNT)) {
    fail(`fetchTopicOffsets: ${JSON.stringify(offsets)}, expected low 0 high ${COUNT}`);
  }
  console.log(`admin: fetchTopicOffsets low ${offsets[0].low} high ${offsets[0].high}`);
  await admin.disconnect();

  // What `kcat -C -f '%k\t%h\t%s\n'` must print.
  const lines = [];
  for (let i = 0; i < COUNT; i++) {
    const r = record(i);
    const hdrs = Object.entries(r.headers).map(([k, v]) => `${k}=${v}`).join(',');
    lines.push(`${r.key}\t${hdrs}\t${r.value}\n`);
  }
  fs.writeFileSync(expectedFile, lines.join(''));
}

main().catch((e) => fail(e && e.stack ? e.stack : String(e)));
