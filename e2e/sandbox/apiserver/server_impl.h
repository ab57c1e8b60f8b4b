#pragma once
// Private to the sandbox apiserver: the state behind ApiServer and the per-request `Call`.
// ApiServer::Impl's member functions are spread over several files by topic:
//   api_server.cpp        start/stop, HTTP wiring, authentication, dispatch, replies
//   discovery.cpp         /api, /apis, /version, /openapi/v2, /openapi/v3
//   resource_handlers.cpp get, list, create, update, patch, delete, deletecollection, watch
//   admission.cpp         per-kind rules on write (defaults, validation, status, generation)
//   tables.cpp            Table output
//   authz.cpp             RBAC, access reviews, token requests
//   controllers.cpp       garbage collector, namespace lifecycle, CRD status
//   hooks.cpp             /__sandbox/ test hooks
// Locking: the ObjectStore's Txn serialises object reads and writes; the other members carry
// their own mutexes, named next to them.

#include <httplib.h>

#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "e2e/sandbox/apiserver/api_error.h"
#include "e2e/sandbox/apiserver/api_server.h"
#include "e2e/sandbox/apiserver/managed_fields.h"
#include "e2e/sandbox/apiserver/object_store.h"
#include "e2e/sandbox/apiserver/request_info.h"
#include "e2e/sandbox/apiserver/resource_registry.h"
#include "e2e/sandbox/apiserver/sandbox_clock.h"

namespace mysqlop::sandbox {

struct UserInfo {
  std::string name;
  std::vector<std::string> groups;
  bool isAdmin() const;
};

// What the client accepts, decided once per request from the Accept header.
struct Accept {
  bool table = false;
  std::string tableVersion = "v1";
  std::string discovery;  // "v2", "v2beta1" or "" (legacy)
  bool protobufOnly = false;
};

// How objects are shown to one client: the requested version, and Table options.
struct View {
  std::string version;
  bool table = false;
  std::string tableVersion = "v1";
  std::string includeObject = "Metadata";  // None | Metadata | Object
};

struct Reply {
  int code = 200;
  Json body;
  std::string contentType = "application/json";
  std::string raw;  // sent as is when non-empty (protobuf OpenAPI, plain text)
};

struct Call {
  const httplib::Request& req;
  httplib::Response& res;
  RequestInfo info;
  UserInfo user;
  Accept accept;
  std::vector<std::string> warnings;
  bool streamed = false;  // the handler installed a streaming body (watch)

  std::string param(const std::string& k) const {
    return req.has_param(k) ? req.get_param_value(k) : std::string();
  }
  bool flag(const std::string& k) const {
    std::string v = param(k);
    return parseBoolParam(v).value_or(false);
  }
  bool dryRun() const { return param("dryRun") == "All"; }
  // The fieldManager, or one derived from the User-Agent as kube-apiserver does.
  std::string fieldManager() const;
  View view() const {
    std::string inc = param("includeObject");
    return {info.version, accept.table, accept.tableVersion, inc.empty() ? "Metadata" : inc};
  }
};

struct FaultRule {
  std::string verb;  // "" = any
  std::string pathPrefix;
  int code = 0;  // 0 = delay only
  int retryAfter = -1;  // seconds for a Retry-After header (0 included); -1: none
  int delayMs = 0;
  int remaining = 1;
  std::string userAgent;  // "" = anyone; else the User-Agent must start with it
  int percent = 100;      // the share of matching requests that fail (at random); the others pass
  bool closeWatch = false;  // a watch is answered 200 and ended at once, without an event
};

struct ApiServer::Impl {
  explicit Impl(ApiServerOptions o);

  ApiServerOptions opts;
  ResourceRegistry registry;
  ObjectStore store;
  SandboxClock clock;

  // Listeners.
  std::unique_ptr<httplib::SSLServer> https;
  std::unique_ptr<httplib::Server> http;
  std::thread httpsThread, httpThread;
  int httpsPort = 0, plainPort = 0;
  std::atomic<bool> stopping{false};
  std::mutex stopMu;
  std::condition_variable stopCv;
  bool stopped = false;  // guarded by stopMu

  // PKI and identity.
  std::string caCert, caKey, servingCert, servingKey;
  std::string adminTokenValue;
  std::string kubeconfig;

  // Tokens issued by TokenRequest: token → (user, expiry). Guarded by tokenMu.
  std::mutex tokenMu;
  struct IssuedToken { UserInfo user; core::WallTime expires; };
  std::map<std::string, IssuedToken> tokens;

  // Test hooks. Guarded by hookMu.
  std::mutex hookMu;
  std::vector<FaultRule> faults;
  std::mt19937 faultRng{std::random_device{}()};  // under hookMu
  std::map<std::string, int64_t> counters;  // "verb resource user agent" → count
  std::vector<Json> requestLog;             // bounded
  bool logRequests = true;

  // Service cluster IPs (10.96.0.0/16). Guarded by ipMu.
  std::mutex ipMu;
  uint32_t nextServiceIp = 10;

  // Background controllers (GC, namespaces).
  std::thread controllerThread;
  std::mutex controllerMu;
  std::condition_variable controllerCv;
  bool controllerKick = false;  // guarded by controllerMu
  void kickControllers();
  void runControllers();
  bool collectGarbageOnce();      // one pass; true when it changed anything
  bool finalizeNamespacesOnce();

  // --- api_server.cpp
  core::Status start();
  void stop();
  void handle(const httplib::Request& req, httplib::Response& res);
  void serve(const httplib::Request& req, httplib::Response& res);
  std::optional<UserInfo> authenticate(const httplib::Request& req);
  void send(Call& call, const ApiResult<Reply>& r);
  void seed();

  // --- discovery.cpp
  ApiResult<Reply> discovery(Call& c);
  ApiResult<Reply> version(Call& c);
  ApiResult<Reply> openapiV2(Call& c);
  ApiResult<Reply> openapiV3(Call& c);

  // --- resource_handlers.cpp
  ApiResult<Reply> resource(Call& c);
  ApiResult<Reply> getObject(Call& c, const ResourceInfo& r);
  ApiResult<Reply> listObjects(Call& c, const ResourceInfo& r);
  ApiResult<Reply> watchObjects(Call& c, const ResourceInfo& r);
  ApiResult<Reply> createObject(Call& c, const ResourceInfo& r);
  // Stamps uid, creationTimestamp and generation on an admitted new object and stores it
  // (or, for dryRun, only answers): the end of create and of create-by-apply.
  ApiResult<Reply> insertNew(Call& c, const ResourceInfo& r, ObjectStore::Txn& tx, Json obj);
  ApiResult<Reply> updateObject(Call& c, const ResourceInfo& r);
  ApiResult<Reply> patchObject(Call& c, const ResourceInfo& r);
  ApiResult<Reply> deleteObject(Call& c, const ResourceInfo& r);
  ApiResult<Reply> deleteCollection(Call& c, const ResourceInfo& r);
  // The request body as JSON, from JSON, YAML or Kubernetes protobuf.
  ApiResult<Json> parseBody(Call& c, const std::string& kind);
  // parseBody plus the checks of a write to `r` (apiVersion, kind, metadata).
  ApiResult<Json> decodeBody(Call& c, const ResourceInfo& r);
  // The object in the version the client asked for.
  Json present(const View& v, const ResourceInfo& r, const Json& stored) const;
  // The shared write path for update and patch: validates `next` against `current`,
  // applies the kind's rules and stores it (or not, for dryRun / no-op).
  ApiResult<Json> commitUpdate(Call& c, const ResourceInfo& r, ObjectStore::Txn& tx,
                               const ObjPtr& current, Json next, const std::string& subresource,
                               bool isApply);
  // Deletes one object inside `tx` honouring finalizers, graceful pod deletion and the
  // propagation policy ("", Background, Foreground, Orphan). Returns its state afterwards.
  Json deleteStored(const ResourceInfo& r, ObjectStore::Txn& tx, const ObjPtr& current,
                               const std::string& propagation, std::optional<int64_t> grace, bool dryRun);
  // Removes a finalizer (controllers); the object goes when it was the last one while deleting.
  void dropFinalizer(const ResourceInfo& r, ObjectStore::Txn& tx, const ObjPtr& obj, const std::string& f);

  // --- admission.cpp
  ApiStatus admitCreate(Call& c, const ResourceInfo& r, ObjectStore::Txn& tx, Json& obj);
  ApiStatus admitUpdate(Call& c, const ResourceInfo& r, ObjectStore::Txn& tx, const Json& old,
                        Json& obj, const std::string& subresource);
  // Prunes (reporting unknown fields per fieldValidation), and unless `pruneOnly` defaults and
  // validates a custom resource against its schema.
  ApiStatus validateSchema(Call& c, const ResourceInfo& r, Json& obj, bool pruneOnly = false);
  void afterWrite(const ResourceInfo& r, ObjectStore::Txn& tx, const Json* before, const Json* after);
  std::string allocateServiceIp();

  // --- tables.cpp
  Json toTable(const View& v, const ResourceInfo& r, const std::vector<ObjPtr>& objs,
               const Json& listMeta, bool withHeaders) const;

  // --- authz.cpp
  // Empty when allowed; else the denial message.
  std::optional<std::string> authorize(const UserInfo& u, const RequestInfo& ri);
  std::optional<std::string> authorize(ObjectStore::Txn& tx, const UserInfo& u, const RequestInfo& ri);
  // RBAC escalation prevention, as kube-apiserver's: a Role/ClusterRole whose rules the requester
  // does not hold needs `escalate` on it; a binding to a role whose rules the requester does not
  // hold needs `bind` on that role. Otherwise 403 listing each permission not held.
  ApiStatus preventEscalation(Call& c, const ResourceInfo& r, ObjectStore::Txn& tx, const Json& obj);
  ApiResult<Reply> accessReview(Call& c, const ResourceInfo& r);
  ApiResult<Reply> tokenRequest(Call& c);
  // The pod a pods/<name>/<subresource> call names, and the container it asks for (`container`,
  // or the only one): NotFound / BadRequest in kube-apiserver's words otherwise.  pod_logs.cpp
  struct PodContainer {
    ObjPtr pod;
    std::string container, uid;
  };
  ApiResult<PodContainer> podContainer(Call& c);
  ApiResult<ObjPtr> namedPod(Call& c);  // the pod alone
  // The process of a pod's running container (the kubelet's <node-dir>/pods/<uid>/<c>.pid); 0 when
  // it does not run.
  pid_t runningPid(const std::string& uid, const std::string& container) const;
  ApiResult<Reply> podLog(Call& c);                                  // pod_logs.cpp
  ApiResult<Reply> podExec(Call& c);                                 // pod_exec.cpp
  ApiResult<Reply> podPortForward(Call& c);                          // pod_portforward.cpp
  ApiResult<Reply> scaleSubresource(Call& c, const ResourceInfo& r);  // scale.cpp

  // --- hooks.cpp
  ApiResult<Reply> sandboxHook(Call& c);
  std::optional<FaultRule> takeFault(const std::string& verb, const std::string& path, const std::string& userAgent);
  void count(const Call& c, int code);
};

// Helpers shared by the files above.
std::string meta(const Json& obj, const char* field);
std::string newUid();
std::string randomSuffix(size_t n);
Json asList(const ResourceInfo& r, const std::string& version, std::vector<Json> items,
            const std::string& rv, const std::string& cont, std::optional<int64_t> remaining);

}  // namespace mysqlop::sandbox
