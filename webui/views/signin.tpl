% rebase('base.tpl', title=_('Sign in'), back_path='/')
<h1>{{_('Sign in')}}</h1>
% if no_admin:
<p class="notice" id="no-admin">{{_('No administrator exists yet. On the box, run:')}} <code>ccbox user add NAME --role admin</code></p>
% end
% if error:
<p class="error" id="signin-error" role="alert">{{error}}</p>
% end
<form method="post" action="/signin" class="card">
<input type="hidden" name="csrf" value="{{ctx.csrf_token}}">
<input type="hidden" name="next" value="{{next}}">
<label>{{_('User name')}} <input name="name" id="name" value="{{user_name}}" autocomplete="username" required autofocus></label>
<label>{{_('Password')}} <input name="password" id="password" type="password" autocomplete="current-password" required></label>
<button type="submit" id="signin">{{_('Sign in')}}</button>
</form>
