// The pass's coverage step and its census, called directly: which warnings each failure gives, when
// the status ConfigMap is written, the StaleDigest Event and its length, and that a census with
// nothing to measure lists no pod.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from '../src/config/config.ts';
import { CoverageCounter, expectedImages } from '../src/coverage/count.ts';
import type { DaemonSetCoverage } from '../src/coverage/report.ts';
import { staleDigestWarnings, statusData } from '../src/coverage/report.ts';
import { ApiError } from '../src/kube/cluster.ts';
import type { DaemonSet, Pod } from '../src/kube/k8s-types.ts';
import { censusOf, takeCensus } from '../src/pass/census.ts';
import { createContext } from '../src/pass/context.ts';
import { STALE_DIGEST_REASON, coverPass } from '../src/pass/coverage.ts';
import { MemoryCluster } from './support/memory-cluster.ts';
import { fixedClock, silent } from './support/run-pass.ts';

const NAME = 'kubernetes-image-puller';
// Written out, not computed: the name is what the chart's Role grants.
const STATUS = 'kubernetes-image-puller-status';
const digest = (seed: string): string => `sha256:${seed.repeat(64)}`;
const pinned = (repository: string): string => `quay.io/x/${repository}@${digest('1')}`;

function context(cluster: MemoryCluster, env: Record<string, string> = {}) {
  const clock = fixedClock();
  const config = loadConfig({ IMAGES: `a=${pinned('a')}`, NAMESPACE: 'cache', ...env });
  return createContext({ config, cluster, log: silent, now: clock.now, sleep: clock.sleep, signal: new AbortController().signal }, 30);
}

function daemonSetCaching(images: string[], name = NAME): DaemonSet {
  const initContainers = images.map((image, index) => ({ name: `c${String(index)}`, image }));
  return { metadata: { name }, spec: { selector: {}, template: { metadata: {}, spec: { initContainers, containers: [] } } } } as unknown as DaemonSet;
}

/** A pod on `node` that pulled each image at `held`. */
function podHolding(node: string, images: string[], held: string): Pod {
  const initContainers = images.map((image, index) => ({ name: `c${String(index)}`, image }));
  const initContainerStatuses = images.map((image, index) => ({ name: `c${String(index)}`, image, imageID: `${image.split('@')[0] ?? ''}@${held}`, state: { terminated: { exitCode: 0 } } }));
  return { metadata: { name: `p-${node}` }, spec: { nodeName: node, initContainers, containers: [] }, status: { initContainerStatuses } };
}

function coverageOf(images: string[], pods: Pod[], daemonSet = NAME): DaemonSetCoverage {
  const counter = new CoverageCounter(expectedImages(images, {}));
  counter.add(pods);
  return { daemonSet, set: 'default', coverage: counter.result(pods.length) };
}

const IMAGES = [pinned('a')];
const CURRENT = coverageOf(IMAGES, [podHolding('n1', IMAGES, digest('1'))]);
const finished = (images = IMAGES) => [{ daemonSet: daemonSetCaching(images) }];

describe('coverPass', () => {
  it('with no DaemonSet finished reports nothing and asks nothing', async () => {
    const cluster = new MemoryCluster();
    assert.deepEqual(await coverPass(context(cluster), { finished: [], census: { coverage: [CURRENT] } }), { coverage: [], nodeLabels: [], warnings: [] });
    assert.equal(cluster.requests().total, 0);
  });

  it('says why the pods could not be listed, and writes nothing', async () => {
    const cluster = new MemoryCluster();
    const step = await coverPass(context(cluster), { finished: finished(), census: { error: new Error('pods is forbidden') } });
    assert.deepEqual(step, { coverage: [], nodeLabels: [], warnings: ['could not list the caching pods to measure coverage: pods is forbidden'] });
    assert.equal(cluster.requests().total, 0);
  });

  it('creates the status ConfigMap, then leaves it while the coverage is the same', async () => {
    const cluster = new MemoryCluster();
    const step = await coverPass(context(cluster), { finished: finished(), census: { coverage: [CURRENT] } });
    assert.deepEqual(step, { coverage: [CURRENT], nodeLabels: [], warnings: [] });
    assert.deepEqual(cluster.configMapWrites, [STATUS]);
    assert.deepEqual(cluster.configMaps.get(STATUS)?.data, statusData([CURRENT]));
    assert.deepEqual(cluster.configMaps.get(STATUS)?.labels, { 'app.kubernetes.io/managed-by': NAME, 'app.kubernetes.io/name': NAME });

    assert.deepEqual((await coverPass(context(cluster), { finished: finished(), census: { coverage: [CURRENT] } })).warnings, []);
    assert.deepEqual(cluster.configMapWrites, [STATUS]);
  });

  it('rewrites a status ConfigMap that holds a key more, or another coverage', async () => {
    const cluster = new MemoryCluster();
    cluster.configMaps.set(STATUS, { data: { ...statusData([CURRENT]), 'notes.txt': 'added by hand' }, resourceVersion: '7' });
    await coverPass(context(cluster), { finished: finished(), census: { coverage: [CURRENT] } });
    assert.deepEqual(cluster.configMapWrites, [STATUS]);
    assert.deepEqual(cluster.configMaps.get(STATUS)?.data, statusData([CURRENT]));

    cluster.configMaps.set(STATUS, { data: { 'coverage.yaml': 'older: true\n' }, resourceVersion: '8' });
    await coverPass(context(cluster), { finished: finished(), census: { coverage: [CURRENT] } });
    assert.deepEqual(cluster.configMapWrites, [STATUS, STATUS]);
    assert.deepEqual(cluster.configMaps.get(STATUS)?.data, statusData([CURRENT]));
  });

  it('retries a 500 on the status ConfigMap and then writes it with no warning', async () => {
    const cluster = new MemoryCluster();
    cluster.failures = [new ApiError({ status: 500, message: 'etcdserver: leader changed', verb: 'get', resource: 'configmaps' })];
    assert.deepEqual((await coverPass(context(cluster), { finished: finished(), census: { coverage: [CURRENT] } })).warnings, []);
    assert.deepEqual(cluster.configMapWrites, [STATUS]);
  });

  it('names the Role and the chart when the ServiceAccount may not write the status ConfigMap', async () => {
    const cluster = new MemoryCluster();
    cluster.failures = [new ApiError({ status: 403, reason: 'Forbidden', message: 'configmaps is forbidden', verb: 'get', resource: 'configmaps' })];
    const step = await coverPass(context(cluster), { finished: finished(), census: { coverage: [CURRENT] } });
    assert.deepEqual(step.warnings, [`the ServiceAccount may not write the status ConfigMap ${STATUS} (403 Forbidden), so it holds an older coverage or none; the chart's Role grants get and update on it and the chart creates it (helm upgrade, or process openshift/serviceaccount.yaml again)`]);
    assert.deepEqual(step.coverage, [CURRENT], 'the coverage is still reported');
  });

  for (const [kind, failure, message] of [
    ['a 400', new ApiError({ status: 400, message: 'ConfigMap "x" is invalid', verb: 'update', resource: 'configmaps' }), 'ConfigMap "x" is invalid'],
    ['a socket error', new Error('socket hang up'), 'socket hang up'],
    ['a thrown string', 'the connection closed', 'the connection closed'],
  ] as const) {
    it(`passes on ${kind} from the write as a warning that names the ConfigMap`, async () => {
      const cluster = new MemoryCluster();
      // A rejection that is no Error (a string) is what a careless library gives: it still reads.
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
      cluster.writeConfigMap = () => Promise.reject(failure);
      const step = await coverPass(context(cluster), { finished: finished(), census: { coverage: [CURRENT] } });
      assert.deepEqual(step.warnings, [`could not write the status ConfigMap ${STATUS}: ${message}`]);
    });
  }

  it('warns of nodes at another digest and records one StaleDigest Event, its warnings joined', async () => {
    const images = [pinned('a'), pinned('b')];
    const stale = coverageOf(images, [podHolding('n1', images, digest('1')), podHolding('n2', images, digest('2'))]);
    const warnings = staleDigestWarnings(stale);
    assert.equal(warnings.length, 2);
    const cluster = new MemoryCluster();
    const step = await coverPass(context(cluster), { finished: finished(images), census: { coverage: [stale] } });
    assert.deepEqual(step.warnings, warnings);
    assert.deepEqual(cluster.events, [`Warning/${STALE_DIGEST_REASON}`]);
    assert.deepEqual(cluster.eventMessages, [`${STALE_DIGEST_REASON}: ${warnings.join('; ')}`]);
  });

  it('cuts the Event message to 1000 characters and keeps the warnings whole', async () => {
    const images = ['a', 'b', 'c', 'd'].map((name) => pinned(`${'long-name/'.repeat(12)}${name}`));
    const stale = coverageOf(images, [podHolding('n1', images, digest('2'))]);
    const cluster = new MemoryCluster();
    const step = await coverPass(context(cluster), { finished: finished(images), census: { coverage: [stale] } });
    assert.equal(step.warnings.length, 4);
    const joined = step.warnings.join('; ');
    assert.ok(joined.length > 1000);
    assert.deepEqual(cluster.eventMessages, [`${STALE_DIGEST_REASON}: ${joined.slice(0, 1000)}`]);
  });

  it('records no Event for a coverage entry with no finished DaemonSet, and still warns', async () => {
    const stale = coverageOf(IMAGES, [podHolding('n1', IMAGES, digest('2'))], 'kip-gone');
    const cluster = new MemoryCluster();
    const step = await coverPass(context(cluster), { finished: finished(), census: { coverage: [CURRENT, stale] } });
    assert.deepEqual(step.warnings, staleDigestWarnings(stale));
    assert.deepEqual(cluster.events, []);
  });

  it('keeps warm-node labels only with NODE_LABELS=true', async () => {
    const without = new MemoryCluster();
    without.nodeLabels.set('n1', {});
    assert.deepEqual((await coverPass(context(without), { finished: finished(), census: { coverage: [CURRENT] } })).nodeLabels, []);
    assert.deepEqual(without.nodePatches, []);

    const labelled = new MemoryCluster();
    labelled.nodeLabels.set('n1', {});
    const step = await coverPass(context(labelled, { NODE_LABELS: 'true' }), { finished: finished(), census: { coverage: [CURRENT] } });
    assert.deepEqual(step.nodeLabels, [{ label: 'kubernetes-image-puller.io/default', nodes: 1, added: 1, removed: 0 }]);
    assert.deepEqual(labelled.nodePatches, ['n1 kubernetes-image-puller.io/default=ready']);
  });
});

describe('takeCensus', () => {
  it('lists no pod when there is nothing to measure or diagnose', async () => {
    const cluster = new MemoryCluster();
    const census = await takeCensus(context(cluster), [], []);
    assert.deepEqual(census.coverage, []);
    assert.equal(census.diagnoses.size, 0);
    assert.deepEqual(cluster.podLists, []);
  });

  it('lists the pods once to diagnose a DaemonSet it does not measure', async () => {
    const cluster = new MemoryCluster();
    cluster.pods = [podHolding('n1', IMAGES, digest('1')), podHolding('n2', IMAGES, digest('1'))];
    const census = await takeCensus(context(cluster), [], [NAME]);
    assert.equal(cluster.podLists.length, 1);
    assert.deepEqual(census.coverage, []);
    assert.equal(census.diagnoses.get(NAME)?.podsSeen, 2);
  });

  it('measures and diagnoses from one LIST, retried after a 503 with no pod counted twice', async () => {
    const cluster = new MemoryCluster();
    cluster.pods = [podHolding('n1', IMAGES, digest('1')), podHolding('n2', IMAGES, digest('2'))];
    cluster.failures = [new ApiError({ status: 503, message: 'unavailable', verb: 'list', resource: 'pods' })];
    const census = await takeCensus(context(cluster), finished(), [NAME]);
    assert.equal(cluster.podLists.length, 2);
    assert.deepEqual(census.coverage.map(({ daemonSet, coverage }) => [daemonSet, coverage.withPod, coverage.complete]), [[NAME, 2, 1]]);
    assert.equal(census.diagnoses.get(NAME)?.podsSeen, 2);
  });

  it('throws when the pods cannot be listed', async () => {
    const cluster = new MemoryCluster();
    cluster.failures = [new ApiError({ status: 403, message: 'pods is forbidden', verb: 'list', resource: 'pods' })];
    await assert.rejects(takeCensus(context(cluster), finished(), []), /pods is forbidden/);
  });
});

describe('censusOf', () => {
  it('passes a failed census on, and gives a DaemonSet it did not diagnose an empty diagnosis', async () => {
    const failed = { error: new Error('no') };
    assert.equal(censusOf(failed, NAME), failed);
    const cluster = new MemoryCluster();
    cluster.pods = [podHolding('n1', IMAGES, digest('1'))];
    const census = await takeCensus(context(cluster), [], [NAME]);
    const own = censusOf(census, NAME);
    const other = censusOf(census, 'kip-other');
    assert.ok('diagnosis' in own && 'diagnosis' in other);
    assert.equal(own.diagnosis.podsSeen, 1);
    assert.equal(other.diagnosis.podsSeen, 0);
  });
});
