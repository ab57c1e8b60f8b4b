{{/*
The operator's ServiceAccount, the binding of its ClusterRole (named like the release), and the
namespaced Role for leader election (Leases) and its Events.
*/}}
{{- define "mysqlop-lib.serviceaccount" -}}
{{- if .Values.serviceAccount.create }}
apiVersion: v1
kind: ServiceAccount
metadata:
  name: {{ include "mysqlop-lib.serviceAccountName" . }}
  namespace: {{ .Release.Namespace }}
  labels:
    {{- include "mysqlop-lib.labels" . | nindent 4 }}
  {{- with .Values.serviceAccount.annotations }}
  annotations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
automountServiceAccountToken: true
{{- end }}
{{- end -}}

{{- define "mysqlop-lib.clusterrolebinding" -}}
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: {{ include "mysqlop-lib.fullname" . }}
  labels:
    {{- include "mysqlop-lib.labels" . | nindent 4 }}
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: {{ include "mysqlop-lib.fullname" . }}
subjects:
- kind: ServiceAccount
  name: {{ include "mysqlop-lib.serviceAccountName" . }}
  namespace: {{ .Release.Namespace }}
{{- end -}}

{{- define "mysqlop-lib.leaderelection" -}}
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: {{ include "mysqlop-lib.fullname" . }}-leader-election
  namespace: {{ .Release.Namespace }}
  labels:
    {{- include "mysqlop-lib.labels" . | nindent 4 }}
rules:
- apiGroups: [coordination.k8s.io]
  resources: [leases]
  verbs: [get, create, update]
- apiGroups: [""]
  resources: [events]
  verbs: [create, patch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: {{ include "mysqlop-lib.fullname" . }}-leader-election
  namespace: {{ .Release.Namespace }}
  labels:
    {{- include "mysqlop-lib.labels" . | nindent 4 }}
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: Role
  name: {{ include "mysqlop-lib.fullname" . }}-leader-election
subjects:
- kind: ServiceAccount
  name: {{ include "mysqlop-lib.serviceAccountName" . }}
  namespace: {{ .Release.Namespace }}
{{- end -}}
