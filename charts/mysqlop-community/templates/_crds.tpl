{{/*
"true" when the operator brings the chart's CRDs in (crds.upgrade, default true). Read this way
so that `helm upgrade --reuse-values` from a chart without the value keeps the default.
*/}}
{{- define "mysqlop-community.crdsUpgrade" -}}
{{- $on := true -}}
{{- if and .Values.crds (hasKey .Values.crds "upgrade") -}}
{{- $on = .Values.crds.upgrade -}}
{{- end -}}
{{- if $on }}true{{ end -}}
{{- end -}}
