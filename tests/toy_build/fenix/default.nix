# A stand-in for fenix, called as the export calls it (`import fenix { inherit pkgs; }`): its stable
# toolchain is the host's real rustc of the toy package set.
{ pkgs, ... }:
{
  stable.toolchain = pkgs.hostRustc;
}
