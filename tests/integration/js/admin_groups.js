// kafkajs 2.2.4's admin client against straitd (run by test_admin_apis.sh). kafkajs
// speaks only non-flexible versions, picking min(its max, ours): raising our maxima for
// flexible versions must leave it working. Checks, in order:
//   createTopics (2 partitions), produce 6 messages; a consumer group reads them all and
//   commits; listGroups shows it; describeGroups says Empty after the consumer left;
//   fetchOffsets says 3/3; setOffsets to 1/2 and resetOffsets(earliest, -2) read back;
//   deleteTopicRecords to offset 2 on partition 0 moves its low watermark;
//   describeCluster names one broker and a cluster id; deleteGroups removes the group.
//
// Usage: BOOTSTRAP=127.0.0.1:PORT node admin_groups.js
'use strict';

process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';
const { Kafka, logLevel } = require('kafkajs');

const TOPIC = 'kjs-admin';
const GROUP = 'kjs-admin-group';

function fail(msg) {
  console.error(`admin_groups.js: FAIL: ${msg}`);
  process.exit(1);
}

function same(got, want, what) {
  const g = JSON.stringify(got);
  const w = JSON.stringify(want);
  if (g !== w) fail(`${what}: got ${g}, expected ${w}`);
}

async function offsets(admin) {
  const res = await admin.fetchOffsets({ groupId: GROUP, topics: [TOPIC] });
  return res[0].partitions
    .map((p) => [p.partition, p.offset])
    .sort((a, b) => a[0] - b[0]);
}

async function main() {
  const kafka = new Kafka({
    clientId: 'kjs-admin',
    brokers: [process.env.BOOTSTRAP],
    logLevel: logLevel.NOTHING,
  });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: 2 }], waitForLeaders: true });
  const producer = kafka.producer();
  await producer.connect();
  const messages = [];
  for (let i = 0; i < 6; i++) messages.push({ value: `v${i}`, partition: i % 2 });
  await producer.send({ topic: TOPIC, acks: -1, messages });
  await producer.disconnect();

  const consumer = kafka.consumer({ groupId: GROUP });
  await consumer.connect();
  await consumer.subscribe({ topic: TOPIC, fromBeginning: true });
  let seen = 0;
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('consumer read < 6 messages in 60 s')), 60000);
    consumer.run({
      eachMessage: async () => {
        seen += 1;
        if (seen === 6) {
          clearTimeout(timer);
          resolve();
        }
      },
    });
  }).catch((e) => fail(e.message));
  await consumer.disconnect();

  const { groups } = await admin.listGroups();
  if (!groups.some((g) => g.groupId === GROUP)) fail(`listGroups: ${JSON.stringify(groups)}`);
  const described = await admin.describeGroups([GROUP]);
  same(described.groups[0].state, 'Empty', 'describeGroups state');
  same(await offsets(admin), [[0, '3'], [1, '3']], 'fetchOffsets after consuming');

  await admin.setOffsets({ groupId: GROUP, topic: TOPIC, partitions: [{ partition: 0, offset: '1' }, { partition: 1, offset: '2' }] });
  same(await offsets(admin), [[0, '1'], [1, '2']], 'fetchOffsets after setOffsets');
  // kafkajs commits -2 ("earliest") itself; the next consumer resolves it.
  await admin.resetOffsets({ groupId: GROUP, topic: TOPIC, earliest: true });
  same(await offsets(admin), [[0, '-2'], [1, '-2']], 'fetchOffsets after resetOffsets earliest');

  await admin.deleteTopicRecords({ topic: TOPIC, partitions: [{ partition: 0, offset: '2' }] });
  const wm = await admin.fetchTopicOffsets(TOPIC);
  const p0 = wm.find((p) => p.partition === 0);
  same([p0.low, p0.high], ['2', '3'], 'partition 0 watermarks after deleteTopicRecords');

  const cluster = await admin.describeCluster();
  if (cluster.brokers.length !== 1 || !cluster.clusterId) fail(`describeCluster: ${JSON.stringify(cluster)}`);

  await admin.deleteGroups([GROUP]);
  const after = await admin.listGroups();
  if (after.groups.some((g) => g.groupId === GROUP)) fail('group still listed after deleteGroups');
  await admin.disconnect();
  console.log('admin_groups.js: all checks passed');
}

main().catch((e) => fail(e.stack || String(e)));
