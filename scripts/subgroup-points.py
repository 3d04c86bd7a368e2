#!/usr/bin/env python3
# Points on BLS12-381 G1 and G2 and on bn254's twist that lie outside the order-r subgroup
# (generator/src/precompile_input.rs keeps them as constants): the smallest x with a point, its
# square root by the p = 3 mod 4 formulas (Fp2: Adj and Rodriguez-Henriquez, algorithm 9), and
# a check that r times the point is not infinity. Pure Python, no dependency; runs in seconds.
import sys
sys.setrecursionlimit(10000)
def inv(a,p): return pow(a,p-2,p)
class F2:
    def __init__(s,a,b,p): s.a=a%p; s.b=b%p; s.p=p
    def __add__(s,o): return F2(s.a+o.a,s.b+o.b,s.p)
    def __sub__(s,o): return F2(s.a-o.a,s.b-o.b,s.p)
    def __mul__(s,o):
        if isinstance(o,int): return F2(s.a*o,s.b*o,s.p)
        return F2(s.a*o.a-s.b*o.b, s.a*o.b+s.b*o.a, s.p)
    def __eq__(s,o): return s.a==o.a and s.b==o.b
    def __pow__(s,e):
        r=F2(1,0,s.p); b=s
        while e:
            if e&1: r=r*b
            b=b*b; e>>=1
        return r
    def inv(s):
        d=inv((s.a*s.a+s.b*s.b)%s.p,s.p)
        return F2(s.a*d,-s.b*d,s.p)
    def iszero(s): return s.a==0 and s.b==0
def sqrt_f2(a):
    p=a.p
    a1=a**((p-3)//4)
    alpha=a1*a1*a
    a0=(alpha**p)*alpha
    if a0==F2(-1,0,p): return None
    x0=a1*a
    if alpha==F2(-1,0,p): x=F2(0,1,p)*x0
    else:
        b=(F2(1,0,p)+alpha)**((p-1)//2); x=b*x0
    assert x*x==a
    return x
# generic affine arithmetic over a field with ops: use class wrappers
class Fp:
    def __init__(s,a,p): s.a=a%p; s.p=p
    def __add__(s,o): return Fp(s.a+o.a,s.p)
    def __sub__(s,o): return Fp(s.a-o.a,s.p)
    def __mul__(s,o): 
        if isinstance(o,int): return Fp(s.a*o,s.p)
        return Fp(s.a*o.a,s.p)
    def __eq__(s,o): return s.a==o.a
    def inv(s): return Fp(pow(s.a,s.p-2,s.p),s.p)
    def iszero(s): return s.a==0
def add(P,Q):
    if P is None: return Q
    if Q is None: return P
    x1,y1=P; x2,y2=Q
    if x1==x2:
        if (y1+y2).iszero(): return None
        l=(x1*x1*3)*( (y1*2).inv())
    else:
        l=(y2-y1)*((x2-x1).inv())
    x3=l*l-x1-x2
    return (x3, l*(x1-x3)-y1)
def mul(P,k):
    R=None
    while k:
        if k&1: R=add(R,P)
        P=add(P,P); k>>=1
    return R
# BLS12-381
p=0x1a0111ea397fe69a4b1ba7b6434bacd764774b84f38512bf6730d2a0f6b0f6241eabfffeb153ffffb9feffffffffaaab
r=0x73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001
def h(v,n=48): return format(v,'0%dx'%(2*n))
x=1
while True:
    rhs=(x**3+4)%p
    y=pow(rhs,(p+1)//4,p)
    if y*y%p==rhs: break
    x+=1
P=(Fp(x,p),Fp(y,p))
print("BLS G1 not in subgroup: x",h(x),"y",h(y),"in subgroup?", mul(P,r) is None)
def twist_point(b2, p):
    """The point of y^2 = x^3 + b2 over Fp2 with the smallest real x."""
    x=F2(1,0,p)
    while True:
        y=sqrt_f2(x*x*x+b2)
        if y: return (x,y)
        x=x+F2(1,0,p)
x,y=P=twist_point(F2(4,4,p),p)
print("BLS G2 not in subgroup: x.c0",h(x.a),"x.c1",h(x.b),"y.c0",h(y.a),"y.c1",h(y.b),"in subgroup?",mul(P,r) is None)
# bn254 G2
p=21888242871839275222246405745257275088696311157297823662689037894645226208583
r=21888242871839275222246405745257275088548364400416034343698204186575808495617
x,y=P=twist_point(F2(3,0,p)*F2(9,1,p).inv(),p)
print("BN G2 not in subgroup (EIP-197 order x_im x_re y_im y_re):",h(x.b,32),h(x.a,32),h(y.b,32),h(y.a,32),"in subgroup?",mul(P,r) is None)
