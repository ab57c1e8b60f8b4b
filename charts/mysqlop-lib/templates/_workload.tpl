{{/*
The operator's Deployment. Call with a dict:
  root:    the chart's root context
  args:    extra command-line flags (list)
  volumes: extra pod volumes (list), mounts: extra container volumeMounts (list)
  checksum: a string whose change should roll the pods (e.g. the licence)
*/}}
{{- define "mysqlop-lib.deployment" -}}
{{- $root := .root -}}
{{- $v := $root.Values -}}
{{- $volumes := .volumes | default list -}}
{{- $mounts := .mounts | default list -}}
{{- $metricsCert := and $v.metrics.secure $v.metrics.certSecret -}}
{{- if $metricsCert -}}
{{- $volumes = append $volumes (dict "name" "metrics-cert" "secret" (dict "secretName" $v.metrics.certSecret)) -}}
{{- $mounts = append $mounts (dict "name" "metrics-cert" "mountPath" "/tmp/k8s-metrics-server/serving-certs" "readOnly" true) -}}
{{- end -}}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "mysqlop-lib.fullname" $root }}
  namespace: {{ $root.Release.Namespace }}
  labels:
    {{- include "mysqlop-lib.labels" $root | nindent 4 }}
spec:
  replicas: {{ $v.replicaCount }}
  # During a rollout the new pod starts beside the old one and stands by for the Lease (it is Ready
  # once its caches are synced); the old one is stopped only then, and releases the Lease as it
  # exits, so that the new one leads within a retry period and the two never reconcile at once.
  strategy:
    type: RollingUpdate
    rollingUpdate: {maxSurge: 1, maxUnavailable: 0}
  selector:
    matchLabels:
      {{- include "mysqlop-lib.selectorLabels" $root | nindent 6 }}
  template:
    metadata:
      labels:
        {{- include "mysqlop-lib.selectorLabels" $root | nindent 8 }}
        {{- with $v.podLabels }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      annotations:
        {{- with .checksum }}
        checksum/config: {{ . | sha256sum }}
        {{- end }}
        {{- with $v.podAnnotations }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
    spec:
      serviceAccountName: {{ include "mysqlop-lib.serviceAccountName" $root }}
      {{- with $v.imagePullSecrets }}
      imagePullSecrets:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $v.priorityClassName }}
      priorityClassName: {{ . }}
      {{- end }}
      securityContext:
        {{- toYaml $v.podSecurityContext | nindent 8 }}
      containers:
      - name: operator
        image: {{ include "mysqlop-lib.image" $root | quote }}
        imagePullPolicy: {{ $v.image.pullPolicy }}
        args:
        - --metrics-bind-address=:{{ $v.metrics.port }}
        - --metrics-secure={{ $v.metrics.secure }}
        {{- if $metricsCert }}
        - --metrics-cert-dir=/tmp/k8s-metrics-server/serving-certs
        {{- end }}
        - --health-probe-bind-address=:{{ $v.health.port }}
        - --log-level={{ $v.logLevel }}
        - --workers={{ $v.workers }}
        # Always, a single replica too: a rollout or a drain overlaps two pods. A Lease per release:
        # two releases in one namespace never share one.
        - --leader-elect
        - --leader-election-id={{ include "mysqlop-lib.fullname" $root }}
        {{- with $v.watchNamespace }}
        - --watch-namespace={{ . }}
        {{- end }}
        - --kube-api-qps={{ $v.kubeApiQps }}
        - --kube-api-burst={{ $v.kubeApiBurst }}
        {{- range .args }}
        - {{ . }}
        {{- end }}
        ports:
        - name: metrics
          containerPort: {{ $v.metrics.port }}
          protocol: TCP
        - name: health
          containerPort: {{ $v.health.port }}
          protocol: TCP
        livenessProbe:
          httpGet: {path: /healthz, port: health}
          initialDelaySeconds: 5
          periodSeconds: 20
        readinessProbe:
          httpGet: {path: /readyz, port: health}
          initialDelaySeconds: 2
          periodSeconds: 10
        resources:
          {{- toYaml $v.resources | nindent 10 }}
        securityContext:
          {{- toYaml $v.securityContext | nindent 10 }}
        {{- with $mounts }}
        volumeMounts:
          {{- toYaml . | nindent 8 }}
        {{- end }}
      {{- with $volumes }}
      volumes:
        {{- toYaml . | nindent 6 }}
      {{- end }}
      {{- with $v.nodeSelector }}
      nodeSelector:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $v.tolerations }}
      tolerations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $v.affinity }}
      affinity:
        {{- toYaml . | nindent 8 }}
      {{- end }}
{{- end -}}

{{- define "mysqlop-lib.metrics" -}}
{{- if .Values.metrics.service.enabled }}
apiVersion: v1
kind: Service
metadata:
  name: {{ include "mysqlop-lib.fullname" . }}-metrics
  namespace: {{ .Release.Namespace }}
  labels:
    {{- include "mysqlop-lib.labels" . | nindent 4 }}
  {{- with .Values.metrics.service.annotations }}
  annotations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
spec:
  type: {{ .Values.metrics.service.type }}
  selector:
    {{- include "mysqlop-lib.selectorLabels" . | nindent 4 }}
  ports:
  - name: metrics
    port: {{ .Values.metrics.port }}
    targetPort: metrics
    protocol: TCP
{{- end }}
{{- if .Values.metrics.serviceMonitor.enabled }}
---
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata:
  name: {{ include "mysqlop-lib.fullname" . }}
  namespace: {{ .Release.Namespace }}
  labels:
    {{- include "mysqlop-lib.labels" . | nindent 4 }}
    {{- with .Values.metrics.serviceMonitor.labels }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
spec:
  selector:
    matchLabels:
      {{- include "mysqlop-lib.selectorLabels" . | nindent 6 }}
  endpoints:
  - port: metrics
    path: /metrics
    interval: {{ .Values.metrics.serviceMonitor.interval }}
    scrapeTimeout: {{ .Values.metrics.serviceMonitor.scrapeTimeout }}
    {{- if .Values.metrics.secure }}
    scheme: https
    bearerTokenFile: /var/run/secrets/kubernetes.io/serviceaccount/token
    {{- with .Values.metrics.serviceMonitor.tlsConfig }}
    tlsConfig:
      {{- toYaml . | nindent 6 }}
    {{- end }}
    {{- end }}
{{- end }}
{{- if .Values.metrics.secure }}
---
# Who may read the secure /metrics: bind this to Prometheus' ServiceAccount.
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: {{ include "mysqlop-lib.fullname" . }}-metrics-reader
  labels:
    {{- include "mysqlop-lib.labels" . | nindent 4 }}
rules:
- nonResourceURLs: [/metrics]
  verbs: [get]
{{- end }}
{{- end -}}

{{/*
The ClusterRole rules secure metrics need: who is asking, and whether RBAC lets them.
*/}}
{{- define "mysqlop-lib.metricsAuthRules" -}}
{{- if .Values.metrics.secure }}
# Secure metrics: who is asking (TokenReview) and whether RBAC lets them (SubjectAccessReview).
- apiGroups: [authentication.k8s.io]
  resources: [tokenreviews]
  verbs: [create]
- apiGroups: [authorization.k8s.io]
  resources: [subjectaccessreviews]
  verbs: [create]
{{- end }}
{{- end -}}

{{- define "mysqlop-lib.networkpolicy" -}}
{{- if .Values.networkPolicy.enabled }}
---
# Only the probes and the scrapers reach the operator (networkPolicy in values.yaml).
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: {{ include "mysqlop-lib.fullname" . }}
  namespace: {{ .Release.Namespace }}
  labels:
    {{- include "mysqlop-lib.labels" . | nindent 4 }}
spec:
  podSelector:
    matchLabels:
      {{- include "mysqlop-lib.selectorLabels" . | nindent 6 }}
  policyTypes: [Ingress]
  ingress:
  - ports:
    - {port: health, protocol: TCP}
  - ports:
    - {port: metrics, protocol: TCP}
    {{- with .Values.networkPolicy.metricsFrom }}
    from:
      {{- toYaml . | nindent 6 }}
    {{- end }}
{{- end }}
{{- end -}}
