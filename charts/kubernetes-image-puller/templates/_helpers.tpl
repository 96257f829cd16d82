{{/* Names, labels and derived settings shared by the templates. */}}

{{- define "kip.name" -}}
{{- .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "kip.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Selector labels: only the immutable name + instance. */}}
{{- define "kip.selectorLabels" -}}
app.kubernetes.io/name: {{ include "kip.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "kip.labels" -}}
{{ include "kip.selectorLabels" . }}
helm.sh/chart: {{ include "kip.chart" . }}
app.kubernetes.io/version: {{ include "kip.imageTag" . | trunc 63 | trimSuffix "-" | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: kubernetes-image-puller
{{- end -}}

{{/* The DaemonSet and the CronJob: appName, else deploymentName, as the upstream chart named its DaemonSet. */}}
{{- define "kip.appName" -}}
{{- .Values.appName | default .Values.deploymentName | default "kubernetes-image-puller" -}}
{{- end -}}

{{/* The Go puller's Deployment whose DaemonSet a pass may take over once it is gone. */}}
{{- define "kip.goPullerDeployment" -}}
{{- .Values.deploymentName | default "kubernetes-image-puller" -}}
{{- end -}}

{{/*
Non-empty when the values name the Go puller's image as the upstream chart does (image.tag: next): it
has no pass and no helper, so this chart runs its own image instead.
*/}}
{{- define "kip.namesGoPullerImage" -}}
{{- if and (eq (toString .Values.image.repository) "quay.io/eclipse/kubernetes-image-puller") (eq (toString .Values.image.tag) "next") -}}yes{{- end -}}
{{- end -}}

{{- define "kip.imageTag" -}}
{{- if include "kip.namesGoPullerImage" . -}}
{{- .Chart.AppVersion -}}
{{- else -}}
{{- .Values.image.tag | default .Chart.AppVersion | toString -}}
{{- end -}}
{{- end -}}

{{/* The chart's own image: runs the pass and provides the DaemonSet's helper (KIP_IMAGE). */}}
{{- define "kip.image" -}}
{{- printf "%s:%s" .Values.image.repository (include "kip.imageTag" .) -}}
{{- end -}}

{{/*
The pass's pod, where the upstream layout's values for the Deployment it replaced apply: `resources`,
`nodeSelector` and `tolerations` replace job.*; `containerSecurityContext` and `deploymentAnnotations`
are merged over job.securityContext and job.podAnnotations. Each renders YAML, or nothing.
*/}}
{{- define "kip.passResources" -}}
{{- with (.Values.resources | default .Values.job.resources) }}{{ toYaml . }}{{ end -}}
{{- end -}}

{{- define "kip.passContainerSecurityContext" -}}
{{- with mergeOverwrite (deepCopy (.Values.job.securityContext | default dict)) (deepCopy (.Values.containerSecurityContext | default dict)) }}{{ toYaml . }}{{ end -}}
{{- end -}}

{{- define "kip.passPodAnnotations" -}}
{{- with mergeOverwrite (deepCopy (.Values.job.podAnnotations | default dict)) (deepCopy (.Values.deploymentAnnotations | default dict)) }}{{ toYaml . }}{{ end -}}
{{- end -}}

{{/* Older upstream values set priorityClassName: {} for none. */}}
{{- define "kip.passPriorityClassName" -}}
{{- if kindIs "string" .Values.priorityClassName }}{{ .Values.priorityClassName }}{{ end -}}
{{- end -}}

{{/* A value given either as a JSON string (the upstream form) or as YAML, rendered as a JSON string. */}}
{{- define "kip.json" -}}
{{- if kindIs "string" . -}}{{ . }}{{- else -}}{{ toJson . }}{{- end -}}
{{- end -}}

{{/* IMAGES: the upstream `name=image;...` string, or a map of name: image (sorted by name). */}}
{{- define "kip.images" -}}
{{- $images := .Values.configMap.images -}}
{{- if kindIs "map" $images -}}
{{- $pairs := list -}}
{{- range $name := keys $images | sortAlpha -}}
{{- $pairs = append $pairs (printf "%s=%s" $name (get $images $name)) -}}
{{- end -}}
{{- join ";" $pairs -}}
{{- else -}}
{{- $images -}}
{{- end -}}
{{- end -}}

{{/* IMAGE_SETS: a list of sets, or its JSON string; none is "", as the OpenShift template's default. */}}
{{- define "kip.imageSets" -}}
{{- with .Values.configMap.imageSets -}}{{ include "kip.json" . }}{{- end -}}
{{- end -}}

{{- define "kip.plainHttpRegistries" -}}
{{- $registries := .Values.configMap.plainHttpRegistries | default list -}}
{{- if kindIs "slice" $registries -}}{{ join ";" $registries }}{{- else -}}{{ $registries }}{{- end -}}
{{- end -}}

{{/* The pull Secret names as a list, for the Role's resourceNames. */}}
{{- define "kip.imagePullSecretNames" -}}
{{- $names := list -}}
{{- range (include "kip.imagePullSecrets" . | splitList ";") -}}
{{- if ne (trim .) "" -}}{{- $names = append $names (trim .) -}}{{- end -}}
{{- end -}}
{{- toJson ($names | uniq | sortAlpha) -}}
{{- end -}}

{{- define "kip.imagePullSecrets" -}}
{{- $secrets := .Values.configMap.imagePullSecrets -}}
{{- if kindIs "slice" $secrets -}}{{ join ";" $secrets }}{{- else -}}{{ $secrets }}{{- end -}}
{{- end -}}

{{/* The upstream README documents the misspelt `cachingMemeryLimit`; when set it wins. */}}
{{- define "kip.memoryLimit" -}}
{{- $misspelt := .Values.configMap.cachingMemeryLimit -}}
{{- if and (not (kindIs "invalid" $misspelt)) (ne (toString $misspelt) "") -}}
{{- $misspelt -}}
{{- else -}}
{{- .Values.configMap.cachingMemoryLimit -}}
{{- end -}}
{{- end -}}

{{- define "kip.intervalHours" -}}
{{- .Values.configMap.cachingIntervalHours | toString | atoi -}}
{{- end -}}

{{- define "kip.rolloutTimeoutSeconds" -}}
{{- .Values.configMap.rolloutTimeoutSeconds | toString | atoi -}}
{{- end -}}

{{/*
Cron schedule (UTC). Minute M (and hour H for a daily pass) come from a hash of namespace/release, so
each install fires at its own time. Whole days are only evenly divided by 1,2,3,4,6,8,12,24 hours; any
other interval runs hourly and the pass itself refreshes only when the interval has elapsed.
*/}}
{{- define "kip.schedule" -}}
{{- if .Values.schedule -}}
{{- .Values.schedule -}}
{{- else -}}
{{- $hours := include "kip.intervalHours" . | atoi -}}
{{- $hash := printf "%s/%s" .Release.Namespace .Release.Name | adler32sum | atoi -}}
{{- $minute := mod $hash 60 -}}
{{- if has $hours (list 2 3 4 6 8 12) -}}
{{- printf "%d */%d * * *" $minute $hours -}}
{{- else if eq $hours 24 -}}
{{- printf "%d %d * * *" $minute (mod (div $hash 60) 24) -}}
{{- else -}}
{{- printf "%d * * * *" $minute -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* Capped at a day, the most the pass accepts as JOB_DEADLINE_SECONDS. */}}
{{- define "kip.activeDeadlineSeconds" -}}
{{- if .Values.cronJob.activeDeadlineSeconds -}}
{{- .Values.cronJob.activeDeadlineSeconds | toString | atoi -}}
{{- else -}}
{{- min (add (include "kip.rolloutTimeoutSeconds" . | atoi) 180) 86400 -}}
{{- end -}}
{{- end -}}

{{- define "kip.containerName" -}}image-puller{{- end -}}

{{/* Where the registryCA bundle is mounted in the pass's pod; NODE_EXTRA_CA_CERTS names the file. */}}
{{- define "kip.registryCADir" -}}/etc/kubernetes-image-puller/registry-ca{{- end -}}

{{/* The volume source of the registryCA bundle, or nothing when none is given. */}}
{{- define "kip.registryCAVolume" -}}
{{- $ca := .Values.registryCA | default dict -}}
{{- $key := $ca.key | default "ca.crt" -}}
{{- if and $ca.configMap $ca.secret -}}
{{- fail "registryCA: name a ConfigMap (registryCA.configMap) or a Secret (registryCA.secret), not both" -}}
{{- else if $ca.configMap -}}
configMap:
  name: {{ $ca.configMap }}
  items:
    - key: {{ $key }}
      path: ca.crt
{{- else if $ca.secret -}}
secret:
  secretName: {{ $ca.secret }}
  items:
    - key: {{ $key }}
      path: ca.crt
{{- end -}}
{{- end -}}

{{/*
Where the pass's pods may run (job.nodeSelector and job.tolerations, or the upstream layout's
top-level ones): the CronJob's, the first pass's and the `helm test` pod, so that a test runs on the
nodes the pass runs on.
*/}}
{{- define "kip.passScheduling" -}}
{{- with (.Values.nodeSelector | default .Values.job.nodeSelector) }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with (.Values.tolerations | default .Values.job.tolerations) }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{/*
Job spec shared by the CronJob and the first-pass hook Job. Exit 2 (invalid configuration) and 4
(refused: a foreign DaemonSet has the name) cannot be fixed by retrying, so they fail the Job at once;
an evicted pod does not count as a failed attempt.
*/}}
{{- define "kip.jobSpec" -}}
backoffLimit: {{ .Values.cronJob.backoffLimit }}
activeDeadlineSeconds: {{ include "kip.activeDeadlineSeconds" . }}
podFailurePolicy:
  rules:
    - action: FailJob
      onExitCodes:
        containerName: {{ include "kip.containerName" . }}
        operator: In
        values: [2, 4]
    - action: Ignore
      onPodConditions:
        - type: DisruptionTarget
template:
  metadata:
    labels:
      {{- include "kip.labels" . | nindent 6 }}
      app.kubernetes.io/component: reconcile-pass
    {{- with include "kip.passPodAnnotations" . }}
    annotations:
      {{- . | nindent 6 }}
    {{- end }}
  spec:
    serviceAccountName: {{ .Values.serviceAccount.name }}
    # The pass talks to the API server; the ServiceAccount itself does not automount.
    automountServiceAccountToken: true
    enableServiceLinks: false
    restartPolicy: Never
    {{- with include "kip.passPriorityClassName" . }}
    priorityClassName: {{ . }}
    {{- end }}
    {{- with .Values.job.podSecurityContext }}
    securityContext:
      {{- toYaml . | nindent 6 }}
    {{- end }}
    {{- with include "kip.passScheduling" . }}
    {{- . | nindent 4 }}
    {{- end }}
    containers:
      - name: {{ include "kip.containerName" . }}
        image: {{ include "kip.image" . | quote }}
        imagePullPolicy: {{ .Values.image.pullPolicy }}
        envFrom:
          - configMapRef:
              name: {{ .Values.configMap.name }}
        env:
          - name: NAMESPACE
            valueFrom:
              fieldRef:
                fieldPath: metadata.namespace
          - name: CRONJOB_NAME
            value: {{ include "kip.appName" . | quote }}
          - name: KIP_IMAGE
            value: {{ include "kip.image" . | quote }}
          # Set here, not in the ConfigMap: they describe this Job and its CronJob as rendered, so the
          # pass can tell when the ConfigMap was edited beyond them.
          - name: JOB_DEADLINE_SECONDS
            value: {{ include "kip.activeDeadlineSeconds" . | quote }}
          {{- if not .Values.schedule }}
          - name: SCHEDULED_INTERVAL_HOURS
            value: {{ include "kip.intervalHours" . | quote }}
          {{- end }}
          {{- if include "kip.registryCAVolume" . }}
          # Node reads it at start-up and trusts these CAs besides its own for every TLS connection.
          - name: NODE_EXTRA_CA_CERTS
            value: {{ include "kip.registryCADir" . }}/ca.crt
          {{- end }}
        # The last log lines become the pod's termination message (kubectl describe / get -o yaml).
        terminationMessagePolicy: FallbackToLogsOnError
        {{- with include "kip.passResources" . }}
        resources:
          {{- . | nindent 10 }}
        {{- end }}
        {{- with include "kip.passContainerSecurityContext" . }}
        securityContext:
          {{- . | nindent 10 }}
        {{- end }}
        {{- if include "kip.registryCAVolume" . }}
        volumeMounts:
          - name: registry-ca
            mountPath: {{ include "kip.registryCADir" . }}
            readOnly: true
        {{- end }}
    {{- with include "kip.registryCAVolume" . }}
    volumes:
      - name: registry-ca
        {{- . | nindent 8 }}
    {{- end }}
{{- end -}}
