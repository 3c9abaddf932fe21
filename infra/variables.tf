variable "spec_file" {
  description = "The fleet spec every value comes from. Only change it to point at another fleet."
  type        = string
  default     = "../fleet-config/fleet.yaml"
}

variable "state_bucket" {
  description = "The GCS bucket holding this configuration's state (the same name given to `terraform init -backend-config`). The workflows' identities get access to it."
  type        = string
}
