#include "e2e/sandbox/kubelet/pod_plan.h"

#include <fmt/format.h>

namespace mysqlop::sandbox::kubelet {
namespace {

inline constexpr const char* kServiceAccountDir = "/var/run/secrets/kubernetes.io/serviceaccount";

// The files of a secret/configMap source: every key, or the listed items.
core::Result<std::vector<File>> sourceFiles(const Lookups& l, const char* kind, const std::string& ns, const std::string& name,
                                            const Json& items, int mode, bool optional, const std::string& field) {
  auto data = l.data(kind, ns, name);
  if (!data) {
    if (optional) return std::vector<File>{};
    return core::notFound(fmt::format("{}: {} {}/{} does not exist", field, kind, ns, name));
  }
  std::vector<File> out;
  if (!items.is_array() || items.empty()) {
    for (const auto& [k, v] : *data) out.push_back({k, v, mode});
    return out;
  }
  for (const auto& it : items) {
    const std::string key = it.value("key", "");
    auto found = data->find(key);
    if (found == data->end()) {
      if (optional) continue;
      return core::notFound(fmt::format("{}: {} {}/{} has no key {:?}", field, kind, ns, name, key));
    }
    out.push_back({it.value("path", key), found->second, it.value("mode", mode)});
  }
  return out;
}

}  // namespace

std::string expandVars(const std::string& s, const std::vector<std::pair<std::string, std::string>>& env) {
  std::string out;
  for (size_t i = 0; i < s.size();) {
    if (s.compare(i, 3, "$$(") == 0) {
      out += "$(";
      i += 3;
      continue;
    }
    if (s.compare(i, 2, "$(") == 0) {
      const auto close = s.find(')', i + 2);
      if (close != std::string::npos) {
        const std::string var = s.substr(i + 2, close - i - 2);
        auto it = std::find_if(env.rbegin(), env.rend(), [&](const auto& kv) { return kv.first == var; });
        if (it != env.rend()) {
          out += it->second;
          i = close + 1;
          continue;
        }
      }
    }
    out += s[i++];
  }
  return out;
}

namespace {

// The pod's and the container's securityContext as the runtime applies them, over the image's
// user; runAsNonRoot is checked as a kubelet does, with its words.
core::Result<Security> securityOf(const Json& pod, const Json& container, const PodPlan& plan, const ContainerPlan& cp,
                                  const std::string& imageUser) {
  Security s;
  bool nonRoot = false;
  for (const Json* ctx : {&pod, &container}) {
    if (!ctx->is_object()) continue;
    if (auto it = ctx->find("runAsUser"); it != ctx->end() && it->is_number_integer()) s.runAsUser = it->get<int64_t>();
    if (auto it = ctx->find("runAsGroup"); it != ctx->end() && it->is_number_integer()) s.runAsGroup = it->get<int64_t>();
    if (auto it = ctx->find("runAsNonRoot"); it != ctx->end() && it->is_boolean()) nonRoot = it->get<bool>();
  }
  // The image's "user[:group]", numeric or by name (the runner resolves names in the image).
  const auto colon = imageUser.find(':');
  const std::string user = imageUser.substr(0, colon);
  const std::string group = colon == std::string::npos ? "" : imageUser.substr(colon + 1);
  const auto numeric = [](const std::string& v) -> std::optional<int64_t> {
    if (v.empty() || v.size() > 9 || v.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
    return std::stoll(v);
  };
  if (!s.runAsUser && !user.empty()) {
    if (auto n = numeric(user)) s.runAsUser = *n;
    else if (user == "root") s.runAsUser = 0;
    else s.imageUser = imageUser;
  }
  if (!s.runAsGroup && s.imageUser.empty()) {
    if (auto n = numeric(group)) s.runAsGroup = *n;
  }
  if (nonRoot && cp.pullError.empty()) {
    if (!s.imageUser.empty()) {
      return core::invalid(fmt::format("container has runAsNonRoot and image has non-numeric user ({}), cannot verify user is non-root "
                                       "(pod: \"{}_{}({})\", container: {})", user, plan.name, plan.ns, plan.uid, cp.name));
    }
    if (s.runAsUser.value_or(0) == 0) {
      return core::invalid(fmt::format("container has runAsNonRoot and image will run as root (pod: \"{}_{}({})\", container: {})",
                                       plan.name, plan.ns, plan.uid, cp.name));
    }
  }
  if (container.is_object()) {
    s.readOnlyRootFilesystem = container.value("readOnlyRootFilesystem", false);
    s.noNewPrivileges = !container.value("allowPrivilegeEscalation", true);
    for (const auto& cap : container.value("capabilities", Json::object()).value("drop", Json::array())) {
      if (cap == "ALL") s.dropAllCapabilities = true;
    }
  }
  return s;
}

// The container's image applied to its plan: rootfs, ID, argv from the image's entrypoint/cmd
// and the container's command/args, the image's Env under the container's, the image's user
// and working directory where the container sets none. Without the image, pullError says why.
void applyImage(ContainerPlan& cp, const Json& c, const Lookups& l) {
  auto img = l.image ? l.image(cp.image) : core::Result<Image>(core::notFound("no image store"));
  if (!img) {
    cp.pullError = img.error().message;
    return;
  }
  cp.pullError.clear();
  cp.imageRef = img->ref;
  cp.imageId = "sha256:" + img->id;
  cp.rootfs = img->rootfs;
  // command replaces the entrypoint (and with it the image's cmd); args replace the cmd.
  std::vector<std::string> argv;
  const auto command = c.value("command", Json::array());
  const auto args = c.value("args", Json::array());
  if (!command.empty()) {
    for (const auto& a : command) argv.push_back(expandVars(a.get<std::string>(), cp.env));
  } else {
    argv = img->entrypoint;
    if (args.empty()) argv.insert(argv.end(), img->cmd.begin(), img->cmd.end());
  }
  for (const auto& a : args) argv.push_back(expandVars(a.get<std::string>(), cp.env));
  cp.argv = std::move(argv);
  // The image's environment, under the container's.
  std::vector<std::pair<std::string, std::string>> env;
  for (const auto& kv : img->env) {
    if (std::none_of(cp.env.begin(), cp.env.end(), [&](const auto& e) { return e.first == kv.first; })) env.push_back(kv);
  }
  env.insert(env.end(), cp.env.begin(), cp.env.end());
  cp.env = std::move(env);
  if (cp.workingDir.empty()) cp.workingDir = img->workingDir;
  cp.imageUser = img->user;
}

}  // namespace

core::Result<PodPlan> planPod(const Json& pod, const Lookups& l) {
  PodPlan plan;
  const Json md = pod.value("metadata", Json::object());
  const Json spec = pod.value("spec", Json::object());
  plan.ns = md.value("namespace", "default");
  plan.name = md.value("name", "");
  plan.uid = md.value("uid", "");
  plan.hostname = spec.value("hostname", plan.name);
  plan.subdomain = spec.value("subdomain", "");
  plan.terminationGracePeriodSeconds = spec.value("terminationGracePeriodSeconds", int64_t{30});

  // --- volumes
  const auto vols = spec.value("volumes", Json::array());
  for (size_t i = 0; i < vols.size(); ++i) {
    const Json& v = vols[i];
    const std::string field = fmt::format("spec.volumes[{}]", i);
    Volume vol;
    vol.name = v.value("name", "");
    if (v.contains("emptyDir")) {
      vol.kind = Volume::kEmptyDir;
    } else if (v.contains("persistentVolumeClaim")) {
      vol.kind = Volume::kClaim;
      vol.claim = v["persistentVolumeClaim"].value("claimName", "");
      // A pod waits for its claim, as the scheduler holds it back: a volume is a claim's own, so a
      // claim deleted and made again under the same name never hands over its predecessor's data.
      auto uid = l.claim ? l.claim(plan.ns, vol.claim) : std::optional<std::string>{};
      if (!uid) return core::notFound(fmt::format("persistentvolumeclaim {:?} not found", vol.claim));
      vol.claimUid = *uid;
    } else if (v.contains("secret") || v.contains("configMap")) {
      const bool secret = v.contains("secret");
      const Json src = secret ? v["secret"] : v["configMap"];
      auto files = sourceFiles(l, secret ? "Secret" : "ConfigMap", plan.ns,
                               src.value(secret ? "secretName" : "name", ""), src.value("items", Json::array()),
                               src.value("defaultMode", 0644), src.value("optional", false), field);
      if (!files) return files.error();
      vol.kind = Volume::kFiles;
      vol.files = std::move(*files);
    } else if (v.contains("projected")) {
      vol.kind = Volume::kFiles;
      const int mode = v["projected"].value("defaultMode", 0644);
      const auto sources = v["projected"].value("sources", Json::array());
      for (size_t j = 0; j < sources.size(); ++j) {
        const Json& s = sources[j];
        const std::string sf = fmt::format("{}.projected.sources[{}]", field, j);
        if (s.contains("secret") || s.contains("configMap")) {
          const bool secret = s.contains("secret");
          const Json src = secret ? s["secret"] : s["configMap"];
          auto files = sourceFiles(l, secret ? "Secret" : "ConfigMap", plan.ns, src.value("name", ""),
                                   src.value("items", Json::array()), mode, src.value("optional", false), sf);
          if (!files) return files.error();
          vol.files.insert(vol.files.end(), files->begin(), files->end());
        } else if (s.contains("serviceAccountToken")) {
          vol.files.push_back({s["serviceAccountToken"].value("path", "token"), l.serviceAccountToken, mode});
        } else {
          return core::invalid(sf + ": only secret, configMap and serviceAccountToken sources are supported by the sandbox");
        }
      }
    } else {
      return core::invalid(field + ": the sandbox supports emptyDir, persistentVolumeClaim, secret, configMap and projected volumes");
    }
    plan.volumes.push_back(std::move(vol));
  }
  const bool automount = spec.value("automountServiceAccountToken", true);
  if (automount) {
    plan.volumes.push_back({Volume::kFiles, "kube-api-access",
                            {{"token", l.serviceAccountToken, 0644}, {"ca.crt", l.caPem, 0644}, {"namespace", plan.ns, 0644}}, ""});
  }

  // --- containers
  const auto containers = spec.value("containers", Json::array());
  if (containers.empty()) return core::invalid("spec.containers: Required value");
  for (size_t i = 0; i < containers.size(); ++i) {
    const Json& c = containers[i];
    const std::string field = fmt::format("spec.containers[{}]", i);
    ContainerPlan cp;
    cp.name = c.value("name", "");
    cp.image = c.value("image", "");
    // Env first: command and args may refer to it.
    const auto env = c.value("env", Json::array());
    for (size_t j = 0; j < env.size(); ++j) {
      const Json& e = env[j];
      const std::string name = e.value("name", "");
      const std::string ef = fmt::format("{}.env[{}]", field, j);
      if (e.contains("value")) {
        cp.env.emplace_back(name, expandVars(e.value("value", ""), cp.env));
        continue;
      }
      const Json from = e.value("valueFrom", Json::object());
      if (from.contains("secretKeyRef") || from.contains("configMapKeyRef")) {
        const bool secret = from.contains("secretKeyRef");
        const Json ref = secret ? from["secretKeyRef"] : from["configMapKeyRef"];
        auto data = l.data(secret ? "Secret" : "ConfigMap", plan.ns, ref.value("name", ""));
        auto value = data ? data->find(ref.value("key", "")) : std::map<std::string, std::string>::iterator{};
        if (!data || value == data->end()) {
          if (ref.value("optional", false)) continue;
          return core::notFound(fmt::format("{}: {} {}/{} key {:?} not found", ef, secret ? "Secret" : "ConfigMap", plan.ns,
                                            ref.value("name", ""), ref.value("key", "")));
        }
        cp.env.emplace_back(name, value->second);
      } else if (from.contains("fieldRef")) {
        const std::string path = from["fieldRef"].value("fieldPath", "");
        std::string value;
        if (path == "metadata.name") value = plan.name;
        else if (path == "metadata.namespace") value = plan.ns;
        else if (path == "metadata.uid") value = plan.uid;
        else if (path == "status.podIP") value = l.podIP;
        else if (path == "spec.nodeName") value = l.nodeName;
        else if (path == "spec.serviceAccountName") value = spec.value("serviceAccountName", "default");
        else return core::invalid(fmt::format("{}.valueFrom.fieldRef.fieldPath: {:?} is not supported by the sandbox", ef, path));
        cp.env.emplace_back(name, value);
      } else {
        return core::invalid(ef + ".valueFrom: only secretKeyRef, configMapKeyRef and fieldRef are supported by the sandbox");
      }
    }
    cp.workingDir = c.value("workingDir", "");
    applyImage(cp, c, l);
    for (const auto& m : c.value("volumeMounts", Json::array())) {
      const std::string vol = m.value("name", "");
      if (std::none_of(plan.volumes.begin(), plan.volumes.end(), [&](const Volume& v) { return v.name == vol; })) {
        return core::invalid(fmt::format("{}.volumeMounts: volume {:?} is not defined", field, vol));
      }
      cp.mounts.push_back({vol, m.value("mountPath", ""), m.value("readOnly", false)});
    }
    if (automount) cp.mounts.push_back({"kube-api-access", kServiceAccountDir, true});
    cp.readinessProbe = c.value("readinessProbe", Json());
    cp.livenessProbe = c.value("livenessProbe", Json());
    cp.ports = c.value("ports", Json::array());
    auto security = securityOf(spec.value("securityContext", Json::object()), c.value("securityContext", Json::object()),
                               plan, cp, cp.imageUser);
    if (!security) return security.error();
    cp.security = *security;
    plan.containers.push_back(std::move(cp));
  }
  return plan;
}

}  // namespace mysqlop::sandbox::kubelet
