// The pass a Job of the chart (or of the OpenShift templates) would run, run here: kwok runs no
// containers, so on the demo cluster the Job's pod is marked Completed without running anything.
//   usage: node e2e/job-pass.ts <namespace> <job>    (KUBECONFIG and PATH as `npm run demo` prints them)
// The pass gets the environment the Job's pod would get (its ConfigMap as it is now, its env) and a
// token of the Job's ServiceAccount, so it may do only what the chart's Role allows. It prints what the
// pod would log, the summary line last, and exits with the pass's exit code. Needs dist/main.mjs.
import { runPass } from './lib/pass-runner.ts';
import { livePassEnv, livePodSpec, tokenKubeconfig } from './packaging/live.ts';

const [namespace, job] = process.argv.slice(2);
if (namespace === undefined || job === undefined) {
  console.error('usage: node e2e/job-pass.ts <namespace> <job>');
  process.exit(2);
}
try {
  const pod = await livePodSpec('job', job, namespace);
  const serviceAccount = typeof pod['serviceAccountName'] === 'string' ? pod['serviceAccountName'] : 'default';
  const env = await livePassEnv('job', job, namespace);
  const result = await runPass(env, { kubeconfig: await tokenKubeconfig(namespace, serviceAccount) });
  process.stderr.write(result.stderr);
  process.stdout.write(result.stdout);
  process.exitCode = result.code;
} catch (err) {
  console.error(`job-pass: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
}
