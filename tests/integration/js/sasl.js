// kafkajs 2.2.4 with SASL against straitd (run by test_sasl.sh):
//
//   roundtrip BROKER PROTOCOL MECH USER PASSWORD CA TOPIC COUNT
//       PROTOCOL sasl_plaintext|sasl_ssl, MECH plain|scram-sha-256|scram-sha-512. Creates
//       TOPIC (1 partition) with the admin client, produces COUNT messages with keys and
//       headers (acks=-1), and reads them back with a consumer group (group id
//       "<TOPIC>.g", inside the tenant's prefix), checking key, value and headers of each,
//       in offset order. For sasl_ssl, CA (a PEM file) is the only trust anchor and
//       rejectUnauthorized stays on, so the broker's certificate and its name (IP SAN
//       127.0.0.1) are verified.
//   badauth BROKER PROTOCOL MECH USER PASSWORD CA
//       the same login with a wrong password must fail with KafkaJSSASLAuthenticationError;
//       prints "auth-error <name>: <message>".
'use strict';

process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';
const fs = require('fs');
const { Kafka, logLevel } = require('kafkajs');

const DEADLINE_MS = 30000;

function fail(msg) {
  console.error(`sasl.js: FAIL: ${msg}`);
  process.exit(1);
}

function client(broker, protocol, mechanism, username, password, ca) {
  const cfg = {
    clientId: 'strait-kafkajs-sasl',
    brokers: [broker],
    logLevel: logLevel.NOTHING,
    retry: { retries: 2 },
    sasl: { mechanism, username, password },
  };
  if (protocol === 'sasl_ssl') {
    cfg.ssl = { ca: [fs.readFileSync(ca)], rejectUnauthorized: true };
  } else if (protocol !== 'sasl_plaintext') {
    fail(`unknown protocol ${protocol}`);
  }
  return new Kafka(cfg);
}

function record(i, mechanism, protocol) {
  return {
    key: `key-${i}`,
    value: `value-${i}-${mechanism}-${protocol}`,
    headers: { seq: `${i}`, mech: mechanism },
  };
}

async function roundtrip(broker, protocol, mechanism, user, password, ca, topic, count) {
  const kafka = client(broker, protocol, mechanism, user, password, ca);
  const admin = kafka.admin();
  await admin.connect();
  const created = await admin.createTopics({
    topics: [{ topic, numPartitions: 1, replicationFactor: 1 }],
    waitForLeaders: true,
  });
  if (created !== true) fail(`createTopics ${topic} returned ${created}, expected true`);

  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  const messages = [];
  for (let i = 0; i < count; i++) messages.push({ ...record(i, mechanism, protocol), partition: 0 });
  const res = await producer.send({ topic, acks: -1, messages });
  if (res.length !== 1 || res[0].errorCode !== 0 || Number(res[0].baseOffset) !== 0) {
    fail(`send: ${JSON.stringify(res)}, expected one partition, error 0, base offset 0`);
  }
  await producer.disconnect();

  const consumer = kafka.consumer({
    groupId: `${topic}.g`,
    sessionTimeout: 10000,
    heartbeatInterval: 1000,
    maxWaitTimeInMs: 250,
  });
  let next = 0;
  let bad = null;
  let crashed = null;
  consumer.on(consumer.events.CRASH, (e) => {
    crashed = e.payload.error;
  });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      if (bad) return;
      const want = record(next, mechanism, protocol);
      const headers = {};
      for (const [h, v] of Object.entries(message.headers || {})) headers[h] = v.toString();
      const got = {
        key: message.key && message.key.toString(),
        value: message.value && message.value.toString(),
        headers,
      };
      if (Number(message.offset) !== next || JSON.stringify(got) !== JSON.stringify(want)) {
        bad = `offset ${message.offset}: ${JSON.stringify(got)}, expected offset ${next}: ${JSON.stringify(want)}`;
      }
      next++;
    },
  });
  const start = Date.now();
  while (next < count && !bad) {
    if (crashed) fail(`consumer crashed: ${crashed.stack || crashed}`);
    if (Date.now() - start > DEADLINE_MS) fail(`read ${next} of ${count} messages within ${DEADLINE_MS} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
  await consumer.disconnect();
  await admin.disconnect();
  if (bad) fail(bad);
  if (next !== count) fail(`read ${next} messages, expected ${count}`);
  console.log(
    `ok: kafkajs ${protocol} ${mechanism}: ${count} messages with keys and headers produced to ${topic} and read back identical by a consumer group`,
  );
}

async function badauth(broker, protocol, mechanism, user, password, ca) {
  const admin = client(broker, protocol, mechanism, user, password, ca).admin();
  try {
    await admin.connect();
    await admin.listTopics();
  } catch (e) {
    console.log(`auth-error ${e.name}: ${e.message}`);
    if (e.name !== 'KafkaJSSASLAuthenticationError') {
      fail(`expected KafkaJSSASLAuthenticationError, got ${e.name}: ${e.message}`);
    }
    return;
  } finally {
    await admin.disconnect().catch(() => {});
  }
  fail(`${protocol} ${mechanism}: a wrong password for ${user} was accepted`);
}

async function main() {
  const [mode, ...a] = process.argv.slice(2);
  if (mode === 'roundtrip' && a.length === 8) return roundtrip(...a.slice(0, 7), Number(a[7]));
  if (mode === 'badauth' && a.length === 6) return badauth(...a);
  fail('usage: sasl.js roundtrip BROKER PROTOCOL MECH USER PASSWORD CA TOPIC COUNT | badauth BROKER PROTOCOL MECH USER PASSWORD CA');
}

main().catch((e) => fail(e && e.stack ? e.stack : String(e)));
