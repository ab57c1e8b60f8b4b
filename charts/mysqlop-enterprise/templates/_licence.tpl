{{/* The licence PEM given to this release (license, else global.license). */}}
{{- define "mysqlop-enterprise.licence" -}}
{{- default (.Values.global).license .Values.license -}}
{{- end -}}

{{/* The Secret the licence is mounted from; fails with instructions when there is none. */}}
{{- define "mysqlop-enterprise.licenceSecret" -}}
{{- if .Values.licenseSecretName -}}
{{- .Values.licenseSecretName -}}
{{- else if include "mysqlop-enterprise.licence" . -}}
{{- printf "%s-license" (include "mysqlop-lib.fullname" .) -}}
{{- else if not (or .Release.IsInstall .Release.IsUpgrade) -}}
{{- /* helm lint renders neither an install nor an upgrade: check the rest of the chart */ -}}
{{- printf "%s-license" (include "mysqlop-lib.fullname" .) -}}
{{- else if contains "/charts/" .Template.BasePath -}}
{{- /* a subchart of the umbrella: its values are global.license and mysqlop-enterprise.* */ -}}
{{- fail "\n\nThe enterprise operator needs a licence, and none was given.\n  1. Find your cluster ID:   kubectl get namespace kube-system -o jsonpath='{.metadata.uid}'\n  2. Obtain a licence for that cluster ID (see docs/licence.md).\n  3. Install with it:        helm install ... --set enterprise.enabled=true --set-file global.license=./license.pem\n     (or --set mysqlop-enterprise.licenseSecretName=<an existing Secret with key license.pem>)" -}}
{{- else -}}
{{- fail "\n\nThe enterprise operator needs a licence, and none was given.\n  1. Find your cluster ID:   kubectl get namespace kube-system -o jsonpath='{.metadata.uid}'\n  2. Obtain a licence for that cluster ID (see docs/licence.md).\n  3. Install with it:        helm install ... --set-file license=./license.pem\n     (or --set licenseSecretName=<an existing Secret with key license.pem>)" -}}
{{- end -}}
{{- end -}}
