#pragma once
// The sandbox's StatefulSet and Deployment controllers on common/runtime: they apply the steps
// of workloads.h to the API server — create and delete Pods, create PVCs (reported Bound, as a
// provisioner would), write the workloads' status — and come back when their Pods change.

#include "common/core/log.h"
#include "common/runtime/manager.h"

namespace mysqlop::sandbox::kubelet {

class WorkloadControllers {
 public:
  WorkloadControllers(runtime::Manager& m, core::Logger log = core::Logger::root());

 private:
  core::Result<runtime::ReconcileResult> reconcileStatefulSet(const runtime::Request& r);
  core::Result<runtime::ReconcileResult> reconcileDeployment(const runtime::Request& r);
  core::Result<bool> writeStatus(const kube::ResourceType& rt, const runtime::Json& obj, const runtime::Json& status);

  runtime::Manager& m_;
  core::Logger log_;
  runtime::Informer* statefulSets_ = nullptr;
  runtime::Informer* deployments_ = nullptr;
  runtime::Informer* pods_ = nullptr;
  runtime::Informer* claims_ = nullptr;
};

}  // namespace mysqlop::sandbox::kubelet
