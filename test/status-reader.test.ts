// The shared status reader of a pass over several DaemonSets: polls made together become one LIST,
// a poll made while a LIST is in flight waits for the next one, a 403 on the LIST turns the reader
// to GETs by name for good, and any other failure reaches every poll that waited on it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { ApiError } from '../src/kube/cluster.ts';
import type { DaemonSet } from '../src/kube/k8s-types.ts';
import type { PassContext } from '../src/pass/context.ts';
import { sharedStatusReader } from '../src/pass/status-reader.ts';

const daemonSet = (name: string, generation = 1): DaemonSet => ({ metadata: { name, generation }, spec: { selector: {}, template: {} } }) as DaemonSet;

/** Answers LIST and GET from `live`, each on a later turn of the event loop, and keeps count. */
class ScriptedCluster {
  live = new Map<string, DaemonSet>();
  lists = 0;
  gets: string[] = [];
  listsInFlight = 0;
  mostListsInFlight = 0;
  listFailure: Error | undefined;
  /** DaemonSets that lost the install's labels: the LIST leaves them out, a GET still finds them. */
  unlabelled = new Set<string>();
  /** Called as each LIST starts, before it answers: a test changes the cluster or asks again here. */
  onList: () => void = () => {};

  async listDaemonSets(): Promise<DaemonSet[]> {
    this.lists += 1;
    this.listsInFlight += 1;
    this.mostListsInFlight = Math.max(this.mostListsInFlight, this.listsInFlight);
    const snapshot = [...this.live.values()].filter((found) => !this.unlabelled.has(found.metadata.name ?? ''));
    this.onList();
    await nextTurn();
    await nextTurn();
    this.listsInFlight -= 1;
    if (this.listFailure !== undefined) throw this.listFailure;
    return snapshot;
  }

  async readDaemonSet(name: string): Promise<DaemonSet | undefined> {
    this.gets.push(name);
    await nextTurn();
    return this.live.get(name);
  }
}

function readerOver(cluster: ScriptedCluster, listable?: boolean) {
  const ctx = { cluster, retrying: <T>(operation: () => Promise<T>) => operation() } as unknown as PassContext;
  return listable === undefined ? sharedStatusReader(ctx) : sharedStatusReader(ctx, listable);
}

/** The poll's answer, or a failure naming it when it is never answered (a reader that forgot it). */
function withinASecond<T>(poll: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const never = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => { reject(new Error(`${what} was never answered`)); }, 1000);
  });
  return Promise.race([poll, never]).finally(() => { clearTimeout(timer); });
}

const nameOf = (found: DaemonSet | undefined) => found?.metadata.name;

describe('sharedStatusReader', () => {
  it('answers polls made together with one LIST, each with its own DaemonSet', async () => {
    const cluster = new ScriptedCluster();
    cluster.live.set('kip-a', daemonSet('kip-a'));
    cluster.live.set('kip-b', daemonSet('kip-b'));
    const read = readerOver(cluster);
    const answers = await Promise.all([read('kip-a'), read('kip-b'), read('kip-a')]);
    assert.deepEqual(answers.map(nameOf), ['kip-a', 'kip-b', 'kip-a']);
    assert.equal(cluster.lists, 1);
    assert.deepEqual(cluster.gets, []);
  });

  it('lists by default, without being told the DaemonSets are listable', async () => {
    const cluster = new ScriptedCluster();
    cluster.live.set('kip-a', daemonSet('kip-a'));
    assert.equal(nameOf(await readerOver(cluster)('kip-a')), 'kip-a');
    assert.equal(cluster.lists, 1);
    assert.deepEqual(cluster.gets, []);
  });

  it('reads by name when told the DaemonSets may not be listed', async () => {
    const cluster = new ScriptedCluster();
    cluster.live.set('kip-a', daemonSet('kip-a'));
    assert.equal(nameOf(await readerOver(cluster, false)('kip-a')), 'kip-a');
    assert.equal(cluster.lists, 0);
    assert.deepEqual(cluster.gets, ['kip-a']);
  });

  it('asks by name for a DaemonSet the LIST left out, and answers undefined when it is gone', async () => {
    const cluster = new ScriptedCluster();
    cluster.live.set('kip-a', daemonSet('kip-a'));
    const read = readerOver(cluster);
    const answers = await Promise.all([read('kip-a'), read('kip-gone')]);
    assert.deepEqual(answers.map(nameOf), ['kip-a', undefined]);
    assert.deepEqual(cluster.gets, ['kip-gone']);
  });

  it('answers with the DaemonSet a GET finds when the LIST left it out (it lost its labels)', async () => {
    const cluster = new ScriptedCluster();
    cluster.live.set('kip-a', daemonSet('kip-a'));
    cluster.live.set('kip-b', daemonSet('kip-b', 4));
    cluster.unlabelled.add('kip-b');
    const read = readerOver(cluster);
    const answers = await Promise.all([read('kip-a'), read('kip-b')]);
    assert.deepEqual(answers.map((found) => [found?.metadata.name, found?.metadata.generation]), [['kip-a', 1], ['kip-b', 4]]);
    assert.deepEqual(cluster.gets, ['kip-b']);
  });

  it('answers a poll made while a LIST is in flight with the next LIST, never two at once', async () => {
    const cluster = new ScriptedCluster();
    cluster.live.set('kip-a', daemonSet('kip-a', 1));
    const read = readerOver(cluster);
    let late: Promise<DaemonSet | undefined> | undefined;
    cluster.onList = () => {
      if (late !== undefined) return;
      // The first LIST has taken its snapshot; the DaemonSet changes and another poll comes.
      cluster.live.set('kip-a', daemonSet('kip-a', 2));
      late = read('kip-a');
    };
    const first = await withinASecond(read('kip-a'), 'the first poll');
    assert.ok(late !== undefined);
    const second = await withinASecond(late, 'the poll made during the LIST');
    assert.equal(first?.metadata.generation, 1);
    assert.equal(second?.metadata.generation, 2, 'the late poll is answered by a LIST sent after it asked');
    assert.equal(cluster.lists, 2);
    assert.equal(cluster.mostListsInFlight, 1);
  });

  it('sends no LIST when no poll is waiting', async () => {
    const cluster = new ScriptedCluster();
    cluster.live.set('kip-a', daemonSet('kip-a'));
    const read = readerOver(cluster);
    await Promise.all([read('kip-a'), read('kip-a')]);
    for (let turn = 0; turn < 5; turn += 1) await nextTurn();
    assert.equal(cluster.lists, 1);
  });

  it('turns to GETs by name for good after a 403 on the LIST', async () => {
    const cluster = new ScriptedCluster();
    cluster.live.set('kip-a', daemonSet('kip-a'));
    cluster.live.set('kip-b', daemonSet('kip-b'));
    cluster.listFailure = new ApiError({ status: 403, message: 'daemonsets.apps is forbidden', verb: 'list', resource: 'daemonsets' });
    const read = readerOver(cluster);
    const answers = await withinASecond(Promise.all([read('kip-a'), read('kip-b')]), 'the polls after a 403');
    assert.deepEqual(answers.map(nameOf), ['kip-a', 'kip-b']);
    assert.equal(nameOf(await withinASecond(read('kip-b'), 'the next poll')), 'kip-b');
    assert.equal(cluster.lists, 1, 'a 403 is not asked again');
    assert.deepEqual(cluster.gets, ['kip-a', 'kip-b', 'kip-b']);
  });

  const failures: [string, Error][] = [
    ['a 500 from the API server', new ApiError({ status: 500, message: 'etcdserver: request timed out', verb: 'list', resource: 'daemonsets' })],
    ['an error that is no API error', new TypeError('fetch failed')],
  ];
  for (const [what, failure] of failures) {
    it(`fails every waiting poll with ${what}, reading nothing by name`, async () => {
      const cluster = new ScriptedCluster();
      cluster.live.set('kip-a', daemonSet('kip-a'));
      cluster.listFailure = failure;
      const read = readerOver(cluster);
      const polls = [read('kip-a'), read('kip-b')];
      for (const [index, poll] of polls.entries()) {
        await assert.rejects(withinASecond(poll, `poll ${String(index + 1)}`), (error) => error === failure);
      }
      assert.deepEqual(cluster.gets, []);
      cluster.listFailure = undefined;
      assert.equal(nameOf(await withinASecond(read('kip-a'), 'a poll after the failure')), 'kip-a', 'the reader still lists after a failure that is no 403');
      assert.equal(cluster.lists, 2);
    });
  }
});
