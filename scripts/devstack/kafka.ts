import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { daemonStatus, type Component } from './component.js';
import { StackError } from './errors.js';
import { requireTool, runLogged, runningPid, startDaemon, stopDaemon, waitReady } from './proc.js';
import { paths, VERSIONS, type StackProfile } from './profile.js';

// A fixed cluster id keeps `format` idempotent for a data directory.
const CLUSTER_ID = 'RWd4UGlwZWxpbmVMb2NhbA';

const POM = `<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.devstack</groupId><artifactId>kafka-runtime</artifactId><version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>${VERSIONS.kafka}</version></dependency>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka-tools</artifactId><version>${VERSIONS.kafka}</version></dependency>
    <!-- the Maven jars carry no log backend; reload4j lets the broker log so readiness can be seen -->
    <dependency><groupId>org.slf4j</groupId><artifactId>slf4j-reload4j</artifactId><version>1.7.36</version></dependency>
  </dependencies>
</project>
`;

const LOG4J = `log4j.rootLogger=WARN, stdout
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka.server.KafkaRaftServer=INFO
`;

function serverProperties(p: StackProfile, dataDir: string): string {
  const { kafka, kafkaController } = p.ports;
  return `process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:${kafkaController}
listeners=PLAINTEXT://127.0.0.1:${kafka},CONTROLLER://127.0.0.1:${kafkaController}
advertised.listeners=PLAINTEXT://127.0.0.1:${kafka}
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=${join(dataDir, 'logs')}
num.partitions=1
num.network.threads=2
num.io.threads=2
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=true
`;
}

function kafkaHome(p: StackProfile) {
  const home = join(p.installDir, 'kafka');
  return { home, libs: join(home, 'libs'), marker: join(home, 'libs', '.egx-installed') };
}

/** Class path of the installed Kafka jars (broker and tools such as ConsumerPerformance). */
export function kafkaClasspath(p: StackProfile): string {
  return `${kafkaHome(p).libs}/*`;
}

const JAVA_HINT = 'Install a Java 17+ runtime (Debian: apt-get install openjdk-17-jre-headless).';

function javaOpts(conf: string, heap: string): string[] {
  return [`-Xmx${heap}`, '-XX:+UseG1GC', '-Djava.awt.headless=true', `-Dlog4j.configuration=file:${conf}`];
}

const STARTED = 'Kafka Server started';

export const kafka: Component = {
  name: 'kafka',

  async install(p) {
    const { home, libs, marker } = kafkaHome(p);
    if (existsSync(marker) && readFileSync(marker, 'utf8') === VERSIONS.kafka) return false;
    requireTool('java', 'to run Apache Kafka', JAVA_HINT);
    const mvn = requireTool(
      'mvn',
      'to download the Apache Kafka jars from Maven Central',
      'Install Maven 3.6+ (Debian: apt-get install maven).',
    );
    mkdirSync(home, { recursive: true });
    writeFileSync(join(home, 'pom.xml'), POM);
    const staging = join(home, 'libs.partial');
    rmSync(staging, { recursive: true, force: true });
    await runLogged(
      `downloading Kafka ${VERSIONS.kafka} jars`,
      mvn,
      [
        '-B',
        '-q',
        'org.apache.maven.plugins:maven-dependency-plugin:3.6.1:copy-dependencies',
        '-DincludeScope=runtime',
        `-DoutputDirectory=${staging}`,
      ],
      {
        cwd: home,
        logFile: join(p.installDir, 'logs', 'install-kafka.log'),
        hint: 'Downloading from Maven Central failed: check that the Maven registry (or the mirror in ~/.m2/settings.xml) is reachable.',
      },
    );
    if (!readdirSync(staging).some((f) => f.startsWith('kafka_2.13-'))) {
      throw new StackError(`Maven finished but ${staging} holds no kafka_2.13 jar.`);
    }
    rmSync(libs, { recursive: true, force: true });
    renameSync(staging, libs);
    writeFileSync(marker, VERSIONS.kafka);
    return true;
  },

  async start(p) {
    const d = { name: 'Kafka broker', ...paths(p, 'kafka') };
    if (runningPid(d) !== undefined) return 0;
    const java = requireTool('java', 'to run Apache Kafka', JAVA_HINT);
    const { libs } = kafkaHome(p);
    if (!existsSync(libs))
      throw new StackError('Kafka jars are not installed.', 'Run: npm run stack -- install');
    mkdirSync(d.dataDir, { recursive: true });
    const props = join(d.dataDir, 'server.properties');
    const log4j = join(d.dataDir, 'log4j.properties');
    writeFileSync(props, serverProperties(p, d.dataDir));
    writeFileSync(log4j, LOG4J);
    const cp = `${libs}/*`;
    if (!existsSync(join(d.dataDir, 'logs', 'meta.properties'))) {
      await runLogged(
        'formatting Kafka storage',
        java,
        [
          ...javaOpts(log4j, '256m'),
          '-cp',
          cp,
          'kafka.tools.StorageTool',
          'format',
          '-t',
          CLUSTER_ID,
          '-c',
          props,
          '--ignore-formatted',
        ],
        {
          logFile: join(p.runDir, 'logs', 'kafka-format.log'),
          hint: 'Delete the Kafka data directory to start clean.',
        },
      );
    }
    const { pid, logOffset } = startDaemon(d, java, [
      '-Xms256m',
      ...javaOpts(log4j, '768m'),
      '-cp',
      cp,
      'kafka.Kafka',
      props,
    ]);
    const client = new Kafka({
      clientId: 'egx-devstack',
      brokers: [`127.0.0.1:${p.ports.kafka}`],
      logLevel: logLevel.NOTHING,
      retry: { retries: 0 },
    });
    return waitReady(
      d,
      pid,
      async () => {
        // The port opens before requests are served: wait for the broker's own "started" line, then for a real metadata request.
        const size = statSync(d.logFile).size;
        if (
          size <= logOffset ||
          !readFileSync(d.logFile).subarray(logOffset).toString('utf8').includes(STARTED)
        )
          return false;
        const admin = client.admin();
        try {
          await admin.connect();
          await admin.listTopics();
          // Consumer groups work only once the group coordinator has loaded its offsets topic
          // (created on first use): until then a consumer's join fails with "the coordinator is
          // loading". Asking about a group fails the same way, so the broker is ready after it.
          await admin.describeGroups(['egx-devstack-ready']);
        } finally {
          await admin.disconnect();
        }
        return true;
      },
      90_000,
    );
  },

  stop: (p) => stopDaemon({ name: 'Kafka broker', ...paths(p, 'kafka') }, 30_000),

  status: (p) => daemonStatus(p, 'kafka', `127.0.0.1:${p.ports.kafka}`),
};
